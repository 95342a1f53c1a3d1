# make check-valgrind: the suite with our programs under valgrind memcheck
# (tools/valgrind-check; about an hour on 2 cores, not part of make check).
EXTRA_DIST += tools/valgrind-check tools/valgrind.supp
.PHONY: check-valgrind
check-valgrind:
	$(top_srcdir)/tools/valgrind-check $(abs_top_builddir)
