# NUMA migrator: top-level entry points.  See README.md.
#
#   make demo    set up, build, and run the scenario: the policy engine
#                places a 4-node guest's memory through a phase change;
#                then move a running guest's RAM between host NUMA nodes
#                (inside the multi-node test host when this host has a
#                single node)
#   make check   set up, build, and run every test suite
#   make check-asan
#                build QEMU with ASan+UBSan (build/qemu-asan) and run
#                the project's qtests under it; not part of "make check"

.PHONY: all setup qemu tools guest-kernel demo check check-asan clean

all: qemu tools guest-kernel

setup:
	scripts/setup-host.sh

qemu: setup
	scripts/build-qemu.sh

tools: setup
	scripts/build-tools.sh

guest-kernel: setup
	guest-kernel/build.sh --debug
	guest-kernel/build-selftests.sh

demo: qemu tools guest-kernel
	scripts/demo.sh

check: qemu tools guest-kernel
	scripts/check.sh

check-asan: setup
	scripts/check-asan.sh

clean:
	rm -rf build
