# bridge/local.mk: automake fragment included from Makefile.am; paths from the top.
