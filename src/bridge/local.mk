# kairos-bridge: the workstation's side. Paths from the top of the tree.
if BUILD_BRIDGE
bin_PROGRAMS += kairos-bridge
kairos_bridge_SOURCES = \
	src/bridge/main.c \
	src/bridge/cli.c src/bridge/cli.h \
	src/bridge/serve.c src/bridge/serve.h \
	src/bridge/known-hosts.c src/bridge/known-hosts.h \
	src/bridge/events.c src/bridge/events.h \
	src/bridge/ssh-config.c src/bridge/ssh-config.h \
	src/bridge/tell.c src/bridge/tell.h \
	src/bridge/token-input.c src/bridge/token-input.h \
	src/bridge/sealed-input.c src/bridge/sealed-input.h \
	src/bridge/known-machines.c src/bridge/known-machines.h \
	src/bridge/keygen.c src/bridge/keygen.h
kairos_bridge_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/bridge
kairos_bridge_LDADD = $(QRIMAGE_LIBS) $(DIAL_LIBS)

# The token given as text is wiped once decoded (token-input.h).
check_PROGRAMS += tests/unit/test-token-input
TESTS += tests/unit/test-token-input
tests_unit_test_token_input_SOURCES = tests/unit/test-token-input.c \
	src/bridge/token-input.c src/bridge/token-input.h \
	src/bridge/sealed-input.c src/bridge/sealed-input.h \
	src/bridge/known-machines.c src/bridge/known-machines.h
tests_unit_test_token_input_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/bridge
tests_unit_test_token_input_LDADD = $(QRIMAGE_LIBS) $(SHARED_LIBS)

# Proxy URLs are shown without their credentials (proxy-url.h).
check_PROGRAMS += tests/unit/test-proxy-url
TESTS += tests/unit/test-proxy-url
tests_unit_test_proxy_url_LDADD = $(DIAL_LIBS)

# The command line's forms, --ssh-config's block, --json's escaping.
check_PROGRAMS += tests/unit/test-bridge-cli
TESTS += tests/unit/test-bridge-cli
tests_unit_test_bridge_cli_SOURCES = tests/unit/test-bridge-cli.c \
	src/bridge/serve.c src/bridge/serve.h \
	src/bridge/events.c src/bridge/events.h \
	src/bridge/ssh-config.c src/bridge/ssh-config.h
tests_unit_test_bridge_cli_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/bridge
tests_unit_test_bridge_cli_LDADD = $(DIAL_LIBS)
endif
