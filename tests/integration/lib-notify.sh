# Sourced after lib.sh by the tests of sealed codes sent out of band (and by
# tests/boot): a throwaway CA, a server certificate, an HTTPS receiver run
# by the test, the operator's key pair and a machine signing key.

need openssl python3

# make_test_ca DIR SAN: DIR/ca.pem, DIR/server.pem and DIR/server.key for
# SAN (such as IP:127.0.0.1 or IP:10.0.2.2), signed by the CA.
make_test_ca() {
	local dir=$1 san=$2
	mkdir -p "$dir"
	openssl req -x509 -newkey ed25519 -nodes -subj /CN=kairos-test-ca -days 2 \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" >"$dir/openssl.log" 2>&1 || fail "openssl: cannot make the test CA"
	openssl req -newkey ed25519 -nodes -subj /CN=kairos-test-server -keyout "$dir/server.key" \
		-out "$dir/server.csr" >>"$dir/openssl.log" 2>&1 || fail "openssl: cannot make the server key"
	printf 'subjectAltName=%s\n' "$san" >"$dir/ext.cnf"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/ext.cnf" -out "$dir/server.pem" >>"$dir/openssl.log" 2>&1 || fail "openssl: cannot sign the server certificate"
}

# start_sink DIR ADDRESS [FAIL-FIRST]: the HTTPS receiver with DIR's
# certificate; POST bodies land in DIR/posts/post-N.txt. Sets SINK_PORT.
start_sink() {
	local dir=$1 address=$2 fail_first=${3:-0}
	mkdir -p "$dir/posts"
	rm -f "$dir/port"
	bg python3 "$srcdir/tests/integration/https-sink.py" "$dir/server.pem" "$dir/server.key" "$address" \
		"$dir/port" "$dir/posts" "$fail_first" >"$dir/sink.log" 2>&1
	for _ in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.1
	done
	[ -s "$dir/port" ] || fail "the HTTPS receiver did not start: $(cat "$dir/sink.log")"
	SINK_PORT=$(cat "$dir/port")
}

# wait_post DIR N [SECONDS]: until the Nth POST has arrived.
wait_post() {
	local i=0 limit=$((${3:-60} * 10))
	while [ ! -e "$1/posts/post-$2.txt" ]; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "no POST number $2 at the HTTPS receiver within ${3:-60} s: $(tail -n 5 "$1/sink.log")"
		sleep 0.1
	done
}

# operator_keys DIR: kairos-bridge keygen into DIR; sets OPERATOR_PUB (the text).
operator_keys() {
	mkdir -p "$(dirname "$1")"
	"$builddir/kairos-bridge" keygen --output "$1" >"$1.out" 2>&1 || fail "kairos-bridge keygen failed: $(cat "$1.out")"
	OPERATOR_PUB=$(cat "$1/operator.pub")
	case "$OPERATOR_PUB" in KAIROS-OPERATOR-KEY:*) ;; *) fail "keygen wrote no operator public key: $OPERATOR_PUB" ;; esac
}

# machine_key FILE: kairos-recovery keygen-machine; sets MACHINE_PUB.
machine_key() {
	"$builddir/kairos-recovery" keygen-machine "$1" >"$1.out" 2>&1 || fail "keygen-machine failed: $(cat "$1.out")"
	MACHINE_PUB=$(cut -d' ' -f1 "$1.pub")
	case "$MACHINE_PUB" in KAIROS-MACHINE-KEY:*) ;; *) fail "keygen-machine wrote no public key: $MACHINE_PUB" ;; esac
}
