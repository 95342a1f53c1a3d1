# The tests across network namespaces: the machine behind a NAT router
# (lib-netns.sh), systemd in systemd-nspawn there. Root; about 15 and 25 s
# (30 s each under ASan+UBSan).
NAT_TESTS = \
	tests/integration/nat-topology.sh \
	tests/integration/nat-faults.sh
TESTS += $(NAT_TESTS)
EXTRA_DIST += $(NAT_TESTS) tests/integration/lib-netns.sh
