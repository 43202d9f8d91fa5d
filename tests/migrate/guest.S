/*
 * Migration-test guest: multiboot (v1) header and entry point.
 *
 * QEMU's multiboot loader (qemu-system-x86_64 -kernel guest.elf) loads the
 * ELF32 program headers (no a.out kludge: flag bit 16 is clear) and enters
 * _start in 32-bit protected mode with flat segments, paging off,
 * interrupts off, EAX = 0x2BADB002 and EBX = the multiboot info address.
 * The C part (guest.c) does the rest and never returns.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* bit 0: page-align modules, bit 1: want mem_* */

	.section .multiboot, "a"
	.balign 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.text
	.globl	_start
_start:
	cli
	movl	$mig_stack_top, %esp
	xorl	%ebp, %ebp
	pushl	%ebx			/* multiboot info pointer */
	pushl	%eax			/* multiboot magic */
	call	guest_main		/* does not return */
1:	hlt
	jmp	1b
