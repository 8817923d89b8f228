# Sourced by infra/dev, infra/test and .ci/run: installs the project's local
# tools into .dev/ (git-ignored, pinned versions) and runs the AWS-compatible
# local server on loopback.
#
# moto's server mode stands in for DynamoDB, SQS, KMS and S3. It does not refuse
# a BatchWriteItem over 25 items nor a disabled KMS key, so the code keeps those
# limits itself rather than relying on the server to.

MOTO_VERSION="5.2.1"
# sam-cli depends on cfn-lint (>=1.52, <1.59 for this version): one
# virtualenv holds both, cfn-lint pinned, rather than two copies of it.
CFN_LINT_VERSION="1.58.0"
SAM_CLI_VERSION="1.170.0"
SELENIUM_VERSION="4.27.1"
# The schema-driven fuzzer (infra/fuzz-test).
SCHEMATHESIS_VERSION="4.32.5"
# The dev server's interactive API reference (/api/docs), served from this
# package's files: nothing is loaded from a CDN.
SWAGGER_UI_VERSION="5.35.0"
# The book (docs/), built by CI.
MDBOOK_VERSION="0.5.4"
# sam build's rust-cargolambda method (infra/package) and the per-function
# replays under cargo-lambda's runtime emulator (infra/lambda-replay);
# ziglang is the linker cargo-lambda cross-builds arm64 with.
CARGO_LAMBDA_VERSION="1.9.2"
ZIGLANG_VERSION="0.15.2"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV_DIR="$REPO_ROOT/.dev"
TOOLS_DIR="$DEV_DIR/tools"
# Where cargo puts what it builds, CARGO_TARGET_DIR honoured.
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"

# Installs PyPI packages (a space-separated list of pins) into their own
# virtualenv, once per set of versions. Separate virtualenvs because sam-cli
# and moto pin conflicting boto versions. No pip cache: the packages are
# installed once, and a cached copy would double what they take on disk.
ensure_python_tool() {
  local name="$1" spec="$2" venv="$TOOLS_DIR/$1"
  if [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$spec" ]; then
    return 0
  fi
  echo "installing $spec into .dev/tools/$name ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  local pins
  read -r -a pins <<< "$spec" # split on spaces, never globbed (moto[server])
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "${pins[@]}" >&2
  echo "$spec" > "$venv/.installed"
}

ensure_local_aws() { ensure_python_tool moto "moto[server]==$MOTO_VERSION"; }

# mdBook from crates.io, built once per version (without its server and
# watcher, which nothing here uses).
ensure_mdbook() {
  local dir="$TOOLS_DIR/mdbook"
  if [ -x "$dir/bin/mdbook" ] && [ "$(cat "$dir/.installed" 2>/dev/null)" = "$MDBOOK_VERSION" ]; then
    return 0
  fi
  echo "installing mdbook $MDBOOK_VERSION into .dev/tools/mdbook ..." >&2
  cargo install --quiet --locked --no-default-features --features search \
    --version "$MDBOOK_VERSION" --root "$dir" mdbook >&2
  echo "$MDBOOK_VERSION" > "$dir/.installed"
}

# swagger-ui-dist's two files from the npm registry, checked against the
# registry's integrity digest; Python, so no Node is needed.
ensure_swagger_ui() {
  local dir="$TOOLS_DIR/swagger-ui"
  if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$SWAGGER_UI_VERSION" ]; then
    return 0
  fi
  echo "installing swagger-ui-dist@$SWAGGER_UI_VERSION (npm registry) into .dev/tools/swagger-ui ..." >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  python3 - "$dir" "$SWAGGER_UI_VERSION" <<'PY'
import base64, hashlib, io, json, sys, tarfile, urllib.request
folder, version = sys.argv[1], sys.argv[2]
meta = json.load(urllib.request.urlopen(f"https://registry.npmjs.org/swagger-ui-dist/{version}", timeout=60))
tarball = urllib.request.urlopen(meta["dist"]["tarball"], timeout=120).read()
algorithm, digest = meta["dist"]["integrity"].split("-", 1)
if base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode() != digest:
    sys.exit("swagger-ui-dist: the tarball does not match the registry's integrity digest")
with tarfile.open(fileobj=io.BytesIO(tarball)) as package:
    for name in ["swagger-ui.css", "swagger-ui-bundle.js"]:
        with open(f"{folder}/{name}", "wb") as out:
            out.write(package.extractfile(f"package/{name}").read())
PY
  echo "$SWAGGER_UI_VERSION" > "$dir/.installed"
}

ensure_linters() {
  ensure_python_tool sam "aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION"
}

# cargo-lambda and zig from PyPI, put first on PATH (sam build runs
# `cargo lambda`, and cargo-lambda finds zig there).
ensure_lambda_tools() {
  ensure_python_tool lambda "cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION"
  export PATH="$TOOLS_DIR/lambda/bin:$PATH"
}

# Debian's Chromium and its chromedriver, for the widget's browser test
# (a test tool's own browser download cannot work on a closed network).
ensure_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "the browser test needs Debian's chromium and chromium-driver: install them as root" >&2
      return 1
    fi
  fi
  echo "installing chromium and chromium-driver (Debian packages) ..." >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts moto on loopback and exports the standard AWS SDK settings that point
# every client at it. Sets LOCAL_AWS_PID; stop it with stop_local_aws.
start_local_aws() {
  local port="${LOCAL_AWS_PORT:-$(free_port)}"
  mkdir -p "$DEV_DIR"
  "$TOOLS_DIR/moto/bin/python" "$REPO_ROOT/infra/local_aws.py" --host 127.0.0.1 --port "$port" > "$DEV_DIR/moto.log" 2>&1 &
  LOCAL_AWS_PID=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_DEFAULT_REGION="$AWS_REGION"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
  for _ in $(seq 1 100); do
    if python3 - "$port" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
    if ! kill -0 "$LOCAL_AWS_PID" 2>/dev/null; then
      echo "the local AWS server failed to start; see .dev/moto.log" >&2
      cat "$DEV_DIR/moto.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the local AWS server did not open port $port in 10 s" >&2
  return 1
}

stop_local_aws() {
  if [ -n "${LOCAL_AWS_PID:-}" ] && kill -0 "$LOCAL_AWS_PID" 2>/dev/null; then
    kill "$LOCAL_AWS_PID" 2>/dev/null || true
    wait "$LOCAL_AWS_PID" 2>/dev/null || true
  fi
  LOCAL_AWS_PID=""
}
