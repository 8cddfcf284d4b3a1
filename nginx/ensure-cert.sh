#!/bin/sh
# Makes sure DIR holds a TLS certificate for nginx (tls.crt, tls.key): one you put there is used as it is; when
# either file is missing, a self-signed one is generated with openssl.
#   nginx/ensure-cert.sh [DIR]     DIR defaults to $VIBE_TLS_DIR, else /etc/nginx/tls
# Names in the certificate: localhost, 127.0.0.1, ::1 and $TLS_HOSTNAME when set (the server's public name).
# Used by compose's tls-init service (app image, which has openssl), mounted into the nginx image's
# /docker-entrypoint.d/ as a check before nginx starts, and by scripts/local-stack.sh.
set -eu

dir="${1:-${VIBE_TLS_DIR:-/etc/nginx/tls}}"
crt="$dir/tls.crt"
key="$dir/tls.key"

if [ -s "$crt" ] && [ -s "$key" ]; then
  echo "ensure-cert: using the certificate in $dir"
  exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "ensure-cert: no tls.crt and tls.key in $dir, and no openssl here to make them: put your certificate there, or let compose's tls-init service make one" >&2
  exit 1
fi

names="DNS:localhost,IP:127.0.0.1,IP:::1"
subject="localhost"
if [ -n "${TLS_HOSTNAME:-}" ]; then
  case "$TLS_HOSTNAME" in
    *[!A-Za-z0-9.-]*) echo "ensure-cert: TLS_HOSTNAME must be a host name, got \"$TLS_HOSTNAME\"" >&2; exit 1 ;;
  esac
  names="DNS:$TLS_HOSTNAME,$names"
  subject="$TLS_HOSTNAME"
fi

mkdir -p "$dir"
# Written under temporary names and renamed, so a start that races another never sees half a key pair.
tmp_crt="$crt.tmp.$$"
tmp_key="$key.tmp.$$"
trap 'rm -f "$tmp_crt" "$tmp_key"' EXIT
umask 077
if ! out=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 825 \
  -subj "/CN=$subject" -addext "subjectAltName=$names" -keyout "$tmp_key" -out "$tmp_crt" 2>&1); then
  echo "ensure-cert: openssl could not make a certificate in $dir: $out" >&2
  exit 1
fi
chmod 644 "$tmp_crt"
mv -f "$tmp_key" "$key"
mv -f "$tmp_crt" "$crt"
echo "ensure-cert: generated a self-signed certificate for $subject in $dir (valid 825 days)"
