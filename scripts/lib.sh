# Helpers shared by the scripts in this directory. Source it from the
# repository root:
#
#   cd "$(dirname "$0")/.." && . scripts/lib.sh
#
# require_go and require_node stop the script with a message that names the
# version needed and the version found.

# The dashboard is built with Vite 8, which needs one of these.
NODE_REQUIREMENT="Node 20.19+ or 22.12+"

die() {
  printf '%s\n' "$*" >&2
  exit 1
}

# version_at_least FOUND WANTED: whether dotted version FOUND (1.26.8) is at
# least WANTED (1.26); parts after the numbers (rc1, -pre) are ignored.
version_at_least() {
  local found wanted i f w
  IFS=. read -ra found <<<"$1"
  IFS=. read -ra wanted <<<"$2"
  for ((i = 0; i < ${#wanted[@]}; i++)); do
    f=${found[i]:-0} w=${wanted[i]:-0}
    f=${f%%[!0-9]*} w=${w%%[!0-9]*}
    if ((10#${f:-0} != 10#${w:-0})); then
      ((10#${f:-0} > 10#${w:-0}))
      return
    fi
  done
  return 0
}

# require_go checks the go command against the go line of go.mod.
require_go() {
  local wanted found
  wanted=$(awk '$1 == "go" { print $2; exit }' go.mod)
  command -v go >/dev/null 2>&1 || die "Go $wanted+ is required; go was not found in PATH (https://go.dev/dl/)"
  found=$(go env GOVERSION 2>/dev/null) || die "Go $wanted+ is required; \`go env GOVERSION\` failed: $(go env GOVERSION 2>&1)"
  [[ $found =~ go([0-9][0-9.]*) ]] && version_at_least "${BASH_REMATCH[1]}" "$wanted" ||
    die "Go $wanted+ is required; found ${found:-no version}"
}

# require_node checks node (and that npm is there) for the dashboard build.
require_node() {
  local found
  command -v node >/dev/null 2>&1 || die "$NODE_REQUIREMENT is required for the dashboard build; node was not found in PATH"
  found=$(node --version 2>&1) || die "$NODE_REQUIREMENT is required for the dashboard build; \`node --version\` failed: $found"
  case "${found#v}" in
  20.*) version_at_least "${found#v}" 20.19 ;;
  21.*) false ;;
  *) version_at_least "${found#v}" 22.12 ;;
  esac || die "$NODE_REQUIREMENT is required for the dashboard build; found $found"
  command -v npm >/dev/null 2>&1 || die "npm is required for the dashboard build; it was not found in PATH (it comes with Node)"
}
