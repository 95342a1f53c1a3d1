# recovery/display.mk: automake fragment included from Makefile.am; paths from the top.
