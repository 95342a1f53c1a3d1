# The journal catalog (journalctl -x), where systemd looks for catalogs
# (--with-catalogdir to choose). It counts after journalctl --update-catalog
# (Debian's systemd package runs it by a trigger when a package installs a
# catalog; after make install, run it by hand: kairos-recovery(8)).
catalog_DATA = catalog/kairos.catalog
EXTRA_DIST += catalog/kairos.catalog
