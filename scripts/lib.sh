# shellcheck shell=bash
# Common settings for the harness scripts.  Source it, do not run it.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything built or run lives under $WORK (git-ignored).
WORK=${WORK:-$TOP/work}
# The unpacked base is cached per tarball hash, outside the clone, so a
# second clone on the same machine does not unpack again.
CACHE=${CACHE:-/var/cache/kvm-dirty-series}
# The base the scripts work on (issue 16, in progress): 6.12, whose pinned
# base is base.conf and whose series is patches/, unless KDS_BASE names
# another, e.g. KDS_BASE=7.3: its base.conf, series, patches and config
# fragment (config.fragment, merged last) are in patches/$KDS_BASE/, and its
# trees and builds live under $WORK/$KDS_BASE (never exported, so that a
# script run by a script lands in the same place).
KDS_BASE=${KDS_BASE:-6.12}
if [ "$KDS_BASE" = 6.12 ]; then
	PATCHES=$TOP/patches
	BASE_CONF=$TOP/base.conf
else
	PATCHES=$TOP/patches/$KDS_BASE
	BASE_CONF=$PATCHES/base.conf
	WORK=$WORK/$KDS_BASE
fi
# The kernel tree with the series applied (the developer's working tree).
TREE=${TREE:-$WORK/linux}
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/kvm-dirty-series/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
[ -f "$BASE_CONF" ] || { echo "no $BASE_CONF: unknown base KDS_BASE=$KDS_BASE" >&2; exit 1; }
# shellcheck source=../base.conf
. "$BASE_CONF"

# progress_watch CONSOLE TAG PID: in the background, until PID ends, print
# the test plan's progress lines (scripts/run-plan's "# [time] i/N name: ..."
# as the guest writes them on its console) to stderr, with the host's time
# and TAG (the mode or configuration).
progress_watch() {
	local console=$1 tag=$2 pid=$3
	tail -n +1 -F --pid="$pid" "$console" 2>/dev/null | while IFS= read -r l; do
		l=${l%$'\r'}
		case $l in
		"# ["*"] "[0-9]*/[0-9]*" "*) printf '[%s] %s: %s\n' "$(date +%H:%M:%S)" "$tag" "${l#\# }" >&2 ;;
		esac
	done &
}

# apt_archive_uri SUITE: the URI that the machine's own apt sources use for
# SUITE (one-line .list and deb822 .sources files), e.g. the Debian archive
# or a mirror of it; empty if none.  Never a host hard-coded here.
apt_archive_uri() {
	/usr/bin/python3 - "$1" <<'EOPY'
import glob, sys
suite = sys.argv[1]
for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(f).read().splitlines()
    except OSError:
        continue
    for l in lines:
        w = l.split("#")[0].split()
        if w[:1] != ["deb"]:
            continue
        w = [x for x in w[1:] if not x.startswith("[") and not x.endswith("]")]
        if len(w) >= 2 and w[1] == suite:
            print(w[0]); sys.exit(0)
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for para in open(f).read().split("\n\n"):
        fields = {}
        for l in para.splitlines():
            if l.startswith("#") or ":" not in l or l[:1].isspace():
                continue
            k, v = l.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if "deb" in fields.get("types", []) and suite in fields.get("suites", []) \
           and fields.get("enabled", ["yes"])[0] != "no" and fields.get("uris"):
            print(fields["uris"][0]); sys.exit(0)
EOPY
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# run_logged LOGFILE CMD...: run CMD, output to LOGFILE; on failure print the
# tail of the log and the command, and fail.
run_logged() {
	local logf=$1; shift
	mkdir -p "$(dirname "$logf")"
	if ! "$@" >"$logf" 2>&1; then
		tail -n 40 "$logf" >&2
		die "failed: $* (full log: $logf)"
	fi
}

# The base commit of a tree made by scripts/tree is tagged "base".
base_commit() { git -C "${1:-$TREE}" rev-parse base; }

# The patch files listed in the base's series ($PATCHES/series), in order.
series_patches() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$PATCHES/series" | grep -v '^$' || true
}

# The subject and body of a cover letter, as a branch description: first
# line the subject, a blank line, then the body up to the shortlog.
cover_text() {
	awk '
		/^Subject: / { sub(/^Subject: \[PATCH[^]]*\] */, ""); subj = $0; insubj = 1; next }
		insubj && /^ / { sub(/^ /, " "); subj = subj $0; next }
		insubj && /^$/ { insubj = 0; print subj; print ""; body = 1; next }
		body && /^[^ ].* \([0-9]+\):$/ { exit }
		body { print }
	' "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# MMU modes of the rig: name -> kernel command line.
# The -harvest modes turn on the series' kvm.dirty_bit_harvest (issue 5).
ALL_MODES="tdp tdp-legacy shadow tdp-harvest tdp-legacy-harvest"
mode_args() {
	case $1 in
	tdp)        echo "kvm_amd.npt=1 kvm.tdp_mmu=1" ;;
	tdp-legacy) echo "kvm_amd.npt=1 kvm.tdp_mmu=0" ;;
	shadow)     echo "kvm_amd.npt=0" ;;
	tdp-harvest)        echo "kvm_amd.npt=1 kvm.tdp_mmu=1 kvm.dirty_bit_harvest=1" ;;
	tdp-legacy-harvest) echo "kvm_amd.npt=1 kvm.tdp_mmu=0 kvm.dirty_bit_harvest=1" ;;
	*) die "unknown MMU mode '$1' (modes: $ALL_MODES)" ;;
	esac
}

# Configurations of the Intel (Bochs) rig: name -> kernel command line.
# KDS_MODE tells scripts/intel-init which kvm_intel parameters to expect.
ALL_INTEL="pml pml0 eptad0 ept0 harvest"
intel_args() {
	case $1 in
	pml)    echo "KDS_MODE=pml" ;;
	pml0)   echo "KDS_MODE=pml0 kvm_intel.pml=0" ;;
	eptad0) echo "KDS_MODE=eptad0 kvm_intel.eptad=0" ;;
	ept0)   echo "KDS_MODE=ept0 kvm_intel.ept=0" ;;
	harvest) echo "KDS_MODE=harvest kvm_intel.pml=0 kvm.dirty_bit_harvest=1" ;;
	*) die "unknown Intel configuration '$1' (configurations: $ALL_INTEL)" ;;
	esac
}

# Lines for a guest job script: check that KVM runs in the MMU mode asked
# for, and wait until the TSC frequency is known (KVM_GET_TSC_KHZ returns 0
# right after boot under TCG until the TSC is finalised).
# guest_prologue MODE [KERNEL]: KERNEL is the bench's "vanilla" or "series";
# without it (the test command), harvesting modes must also have
# kvm.dirty_bit_harvest_verify on (the debug kernel's default).  With
# "vanilla" (the baseline, which has no kvm.dirty_bit_harvest), a missing
# parameter is accepted and said; otherwise it fails the job like a wrong
# value.
guest_prologue() {
	local mode=$1 baseline=${2:-} npt=1 tdp_mmu=Y harvest=N
	case $mode in tdp-legacy*) tdp_mmu=N ;; shadow) npt=0 tdp_mmu=N ;; esac
	case $mode in *-harvest) harvest=Y ;; esac
	cat <<EOS
set -u
[ -e /dev/kvm ] || { echo "no /dev/kvm"; dmesg | grep -i -E 'kvm|svm' | tail; exit 3; }
npt=\$(cat /sys/module/kvm_amd/parameters/npt)
tdp=\$(cat /sys/module/kvm/parameters/tdp_mmu)
case \$npt in 1|Y) npt=1 ;; *) npt=0 ;; esac
[ \$npt = $npt ] && [ \$tdp = $tdp_mmu ] || { echo "wrong MMU mode: npt=\$npt tdp_mmu=\$tdp, wanted $mode"; exit 3; }
hv=\$(cat /sys/module/kvm/parameters/dirty_bit_harvest 2>/dev/null || echo absent)
if [ \$hv = absent ] && [ "$baseline" = vanilla ]; then
	echo "vanilla baseline: no kvm.dirty_bit_harvest parameter, $mode runs with write protection"
else
	[ \$hv = $harvest ] || { echo "wrong dirty_bit_harvest=\$hv, wanted $harvest for $mode"; exit 3; }
	# Harvesting: the debug kernel checks every skipped region (CONFIG_KVM_PROVE_MMU).
	hvv=\$(cat /sys/module/kvm/parameters/dirty_bit_harvest_verify 2>/dev/null || echo absent)
	[ \$hv = N ] || [ -n "$baseline" ] || [ \$hvv = Y ] ||
		{ echo "dirty_bit_harvest_verify=\$hvv, wanted Y for $mode"; exit 3; }
fi
echo "MMU mode $mode: npt=\$npt tdp_mmu=\$tdp dirty_bit_harvest=\$hv"
# The TSC is final once the "tsc" clocksource (not tsc-early) is selected.
for i in \$(seq 150); do
	dmesg | grep -q 'clocksource: Switched to clocksource tsc\$' && break
	sleep 0.2
done
dmesg | grep -q 'clocksource: Switched to clocksource tsc\$' || echo "warning: TSC not finalised after 30s"
EOS
}
