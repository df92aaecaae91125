# tests/lib/pki.sh: throwaway X.509 material for TLS tests (openssl CLI).
#
# A test CA, server certificates it signs (SAN DNS:localhost, IP:127.0.0.1
# by default) and, for "unknown CA" tests, any number of unrelated CAs.
# Keys are EC P-256: generating them takes milliseconds. Nothing here is a
# secret worth protecting, but keys are still written 0600.
#
#   pki_make_ca DIR [NAME]            -> DIR/NAME.crt, DIR/NAME.key (NAME: ca)
#   pki_make_server DIR NAME [SAN...] -> DIR/NAME.crt, DIR/NAME.key signed
#                                        by DIR/ca; SAN like DNS:x or IP:y
#
# Typical: pki_make_ca "$T/pki"; pki_make_server "$T/pki" server;
#          pki_make_ca "$T/pki" other-ca   # trusted by nobody
# Public names start with `pki_`. Functions return 0/1.

PKI_DAYS=${PKI_DAYS:-30}

_pki_serial() {
    printf '0x%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
}

# pki_make_ca DIR [NAME]: a self-signed CA certificate and key.
pki_make_ca() {
    local dir name
    dir=$1
    name=${2:-ca}
    mkdir -p "$dir" || return 1
    (umask 077 && openssl req -x509 -new -newkey ec \
        -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/$name.key" -out "$dir/$name.crt" \
        -days "$PKI_DAYS" -set_serial "$(_pki_serial)" \
        -subj "/O=onebox tests/CN=onebox test $name" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash") >"$dir/$name.openssl.log" 2>&1 || {
        echo "pki_make_ca: openssl failed, see $dir/$name.openssl.log" >&2
        return 1
    }
    chmod 0644 "$dir/$name.crt"
}

# pki_make_server DIR NAME [SAN...]: a TLS server certificate signed by
# DIR/ca.{crt,key}. Without SANs: DNS:localhost, IP:127.0.0.1.
pki_make_server() {
    local dir name san s
    dir=$1
    name=$2
    shift 2
    [ -r "$dir/ca.key" ] || {
        echo "pki_make_server: no CA in $dir (run pki_make_ca first)" >&2
        return 1
    }
    [ $# -gt 0 ] || set -- DNS:localhost IP:127.0.0.1
    san=
    for s in "$@"; do
        san="${san:+$san,}$s"
    done
    cat >"$dir/$name.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
    (umask 077 &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
            -subj "/O=onebox tests/CN=${1#*:}" &&
        openssl x509 -req -in "$dir/$name.csr" \
            -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -set_serial "$(_pki_serial)" -days "$PKI_DAYS" \
            -extfile "$dir/$name.ext" -out "$dir/$name.crt") \
        >"$dir/$name.openssl.log" 2>&1 || {
        echo "pki_make_server: openssl failed, see $dir/$name.openssl.log" >&2
        return 1
    }
    chmod 0644 "$dir/$name.crt"
    rm -f "$dir/$name.csr"
}
