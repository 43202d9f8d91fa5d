/*
 * Migration-test guest: set up 32-bit paging with 4 KiB pages, publish a
 * header page at a fixed physical address, then dirty a working set of
 * pages forever.  Used by scripts/migrate-run (see its header comment).
 *
 * Header page at mig_header (physical 0x00200000), little-endian u32s:
 *   +0x00 magic     0x4D494752 (written last, once everything is set up)
 *   +0x04 version   1
 *   +0x08 passes    completed passes over the working set
 *   +0x0c ws_base   physical address of working-set page 0 (0x00400000)
 *   +0x10 ws_pages  number of working-set pages
 *   +0x14 ram_end   end of the identity-mapped RAM (bytes, <= 256 MiB)
 *   +0x18 mb_flags  multiboot info flags (for debugging)
 *   +0x1c pages     pages written so far, modulo 2^32 (one more store per
 *                   page: fine-grained progress for the throughput numbers)
 *
 * Pass n (n = passes + 1) writes, for each working-set page i in order
 * 0..ws_pages-1, four 32-bit words with plain stores in this order:
 *   word 0 = n, word 1 = i, word 1022 = i, word 1023 = n
 * (then bumps the header's pages counter), and at the end of the pass
 * sets passes = n.  So a snapshot with passes = P has a prefix
 * of pages holding P+1 and the rest holding P (the last page of the
 * prefix may be "torn": head P+1, tail still P).  No I/O in the loop.
 *
 * Working-set size: the multiboot command line may hold "ws=PAGES"
 * (qemu -append ws=4096); the default is 8192 pages (32 MiB).  The set
 * is clamped to the RAM that exists above mig_ws_base.
 */
typedef unsigned int u32;

#define HDR_MAGIC	0x4D494752u
#define HDR_VERSION	1u
#define DEFAULT_WS	8192u
#define MAX_RAM		(256u << 20)	/* 64 page tables */
#define PAGE_SIZE	4096u
#define PTE_P		0x1u
#define PTE_RW		0x2u
#define CR0_PG		0x80000000u
#define CR4_PSE		0x00000010u
#define CR4_PAE		0x00000020u

/* Fixed addresses from guest.ld. */
extern char mig_header[], mig_pgdir[], mig_pgtab[], mig_ws_base[];

struct header {
	u32 magic;
	u32 version;
	u32 passes;
	u32 ws_base;
	u32 ws_pages;
	u32 ram_end;
	u32 mb_flags;
	u32 pages;
};

/* The part of the multiboot info we use. */
struct mb_info {
	u32 flags;
	u32 mem_lower;		/* KiB below 1 MiB, valid if flags bit 0 */
	u32 mem_upper;		/* KiB above 1 MiB, valid if flags bit 0 */
	u32 boot_device;
	u32 cmdline;		/* physical address, valid if flags bit 2 */
};

/* Value of "ws=N" starting a word of the command line; 0 if absent. */
static u32 parse_ws(const char *cmdline)
{
	const char *s;
	u32 v = 0;

	for (s = cmdline; *s; s++) {
		if (s[0] == 'w' && s[1] == 's' && s[2] == '=' &&
		    (s == cmdline || s[-1] == ' ')) {
			for (s += 3; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (u32)(*s - '0');
			return v;
		}
	}
	return 0;
}

static void zero_page(u32 addr)
{
	volatile u32 *p = (volatile u32 *)addr;
	u32 i;

	for (i = 0; i < PAGE_SIZE / 4; i++)
		p[i] = 0;
}

void __attribute__((noreturn)) guest_main(u32 magic, struct mb_info *mbi)
{
	volatile struct header *hdr = (volatile struct header *)mig_header;
	volatile u32 *pgdir = (volatile u32 *)mig_pgdir;
	volatile u32 *pgtab = (volatile u32 *)mig_pgtab;
	u32 ram_end = 16u << 20;	/* if the loader tells us nothing */
	u32 ws_base = (u32)mig_ws_base, ws = 0, avail, i, n, count;

	if (magic == 0x2BADB002u && (mbi->flags & 1))
		ram_end = (1u << 20) + (mbi->mem_upper << 10);
	if (ram_end > MAX_RAM)
		ram_end = MAX_RAM;
	ram_end &= ~(PAGE_SIZE - 1);
	/* The command line lives in low memory; read it before we write. */
	if (magic == 0x2BADB002u && (mbi->flags & 4) && mbi->cmdline)
		ws = parse_ws((const char *)mbi->cmdline);
	if (!ws)
		ws = DEFAULT_WS;
	avail = ram_end > ws_base ? (ram_end - ws_base) / PAGE_SIZE : 0;
	if (ws > avail)
		ws = avail;

	zero_page((u32)mig_header);
	hdr->version = HDR_VERSION;
	hdr->ws_base = ws_base;
	hdr->ws_pages = ws;
	hdr->ram_end = ram_end;
	hdr->mb_flags = magic == 0x2BADB002u ? mbi->flags : 0;

	/*
	 * Identity-map [0, ram_end) with 4 KiB PTEs: one page table per 4 MiB,
	 * CR4.PSE stays clear, so no large pages anywhere.
	 */
	n = (ram_end + (4u << 20) - 1) >> 22;	/* page tables needed */
	zero_page((u32)mig_pgdir);
	for (i = 0; i < n; i++)
		zero_page((u32)mig_pgtab + i * PAGE_SIZE);
	for (i = 0; i < ram_end / PAGE_SIZE; i++)
		pgtab[i] = i * PAGE_SIZE | PTE_RW | PTE_P;
	for (i = 0; i < n; i++)
		pgdir[i] = ((u32)mig_pgtab + i * PAGE_SIZE) | PTE_RW | PTE_P;
	/* CR4.PAE and CR4.PSE off: classic 32-bit paging, 4 KiB pages only. */
	__asm__ volatile("movl %%cr4, %%eax\n\t"
			 "andl %0, %%eax\n\t"
			 "movl %%eax, %%cr4"
			 : : "i"(~(CR4_PSE | CR4_PAE)) : "eax");
	__asm__ volatile("movl %0, %%cr3\n\t"
			 "movl %%cr0, %%eax\n\t"
			 "orl %1, %%eax\n\t"
			 "movl %%eax, %%cr0\n\t"
			 "jmp 1f\n1:"
			 : : "r"((u32)mig_pgdir), "i"(CR0_PG) : "eax", "memory");

	hdr->magic = HDR_MAGIC;		/* the driver waits for this */

	for (count = 0;;) {
		u32 pass = hdr->passes + 1;

		for (i = 0; i < ws; i++) {
			volatile u32 *p = (volatile u32 *)(ws_base + i * PAGE_SIZE);

			p[0] = pass;
			p[1] = i;
			p[1022] = i;
			p[1023] = pass;
			hdr->pages = ++count;
		}
		hdr->passes = pass;
	}
}
