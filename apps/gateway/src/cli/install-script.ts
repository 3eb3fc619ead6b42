/** Quotes a value for POSIX sh: single quotes, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `GET /cli/install.sh`: downloads the CLI tarball from this gateway, installs it with npm
 * (`GANTRY_PREFIX` for another prefix than npm's global one) and sets the server URL in the
 * user's config. `curl -fsSL <url>/cli/install.sh | sh`.
 */
export function installScript(publicUrl: string): string {
  const url = publicUrl.replace(/\/+$/, '');
  return `#!/bin/sh
# Installs the gantry CLI from ${url.replace(/\n/g, '')} and points it at that server.
#   curl -fsSL ${url.replace(/\n/g, '')}/cli/install.sh | sh
# GANTRY_PREFIX=<dir> installs under <dir> (npm --prefix) instead of npm's global prefix.
set -eu
url=\${GANTRY_INSTALL_URL:-${shellQuote(url)}}
if ! command -v npm >/dev/null 2>&1; then
  echo "gantry install: npm is required (Node.js >= 20.19)" >&2
  exit 1
fi
tmp=$(mktemp -d "\${TMPDIR:-/tmp}/gantry-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  curl -fsSL "$url/cli/download" -o "$tmp/gantry-cli.tgz"
elif command -v wget >/dev/null 2>&1; then
  wget -q -O "$tmp/gantry-cli.tgz" "$url/cli/download"
else
  echo "gantry install: curl or wget is required" >&2
  exit 1
fi
if [ -n "\${GANTRY_PREFIX:-}" ]; then
  npm install --global --no-audit --no-fund --loglevel=error --prefix "$GANTRY_PREFIX" "$tmp/gantry-cli.tgz"
  bin="$GANTRY_PREFIX/bin/gantry"
else
  npm install --global --no-audit --no-fund --loglevel=error "$tmp/gantry-cli.tgz"
  bin="$(npm prefix --global)/bin/gantry"
fi
"$bin" config set-url "$url"
echo "gantry installed at $bin for $url; next: gantry login"
`;
}
