#!/usr/bin/env bash
# A probe, not a supported build: compiles the gateway ahead of time (NativeAOT) so that profile.sh can measure it
# beside the build that ships. See the NativeAOT section under "Latest results" in docs/benchmarks.md.
#
# Usage: tests/benchmarks/native-build.sh [OUTPUT_DIR [PUBLISH_ARGUMENT...]]     (default: artifacts/native-build)
#   Prints the path of the executable; run it in profile.sh with @PATH, for example
#   tests/benchmarks/profile.sh full=full-pipeline native=full-pipeline,@artifacts/native-build/LlmGateway
#   Further arguments go to `dotnet publish`, for example -p:StripSymbols=false (symbols in the executable, for
#   profile.sh --perf) or -p:IlcInstructionSet=x86-64-v3.
#   profile.sh starts it with the same environment as the shipped build, 16 MiB gen0 budget included
#   (DOTNET_GCgen0size in lib/processes.sh, written without the 0x prefix that the native runtime would not read).
#
# The committed code does not publish as NativeAOT unchanged, so this script builds a copy of HEAD (git archive, in a
# temporary folder) with two edits that only the probe needs:
#   - options properties `{ get; init; }` become `{ get; set; }`: the configuration binder's source generator, which
#     NativeAOT uses instead of reflection, leaves init-only properties unbound (every provider and model would be
#     read as empty);
#   - Serilog is given its sink assemblies, and the trimmer keeps Serilog's assemblies and the gateway's whole: Serilog
#     finds sinks and formatters by name from the Serilog section, through reflection.
# It takes about 2.5 minutes on 2 cores. Warnings are not errors here: StackExchange.Redis and Serilog's settings
# reader report trimming and AOT warnings, and the substitute System.IO.Hashing reports another processor (CS8012).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$(realpath -m "${1:-$root/artifacts/native-build}")
shift $(($# > 0 ? 1 : 0))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git -C "$root" archive HEAD | tar -x -C "$work"

grep -rlZ --include='*.cs' '{ get; init; }' "$work/src/LlmGateway" | xargs -0 -r grep -lZ 'Options' |
    xargs -0 -r sed -i 's/{ get; init; }/{ get; set; }/g'

logging="$work/src/LlmGateway/Hosting/GatewayLoggingExtensions.cs"
read_from='configuration.ReadFrom.Configuration(builder.Configuration'
grep -qF "$read_from);" "$logging" || { echo "native-build.sh: $logging changed; update this script" >&2; exit 1; }
sink_assemblies='typeof(GatewayLoggingExtensions).Assembly, typeof(Serilog.ConsoleLoggerConfigurationExtensions).Assembly'
sed -i "s/$read_from);/$read_from, new Serilog.Settings.Configuration.ConfigurationReaderOptions($sink_assemblies));/" "$logging"

cat >"$work/native.targets" <<'EOF'
<Project>
  <ItemGroup Condition="'$(MSBuildProjectName)' == 'LlmGateway'">
    <TrimmerRootAssembly Include="LlmGateway" />
    <TrimmerRootAssembly Include="Serilog" />
    <TrimmerRootAssembly Include="Serilog.Sinks.Console" />
    <TrimmerRootAssembly Include="Serilog.Settings.Configuration" />
    <TrimmerRootAssembly Include="Serilog.Extensions.Logging" />
  </ItemGroup>
</Project>
EOF

dotnet publish "$work/src/LlmGateway/LlmGateway.csproj" -c Release -r linux-x64 -nologo -v quiet \
    -p:PublishAot=true -p:TreatWarningsAsErrors=false -p:WarningsNotAsErrors=CS8012 \
    -p:CustomAfterMicrosoftCommonTargets="$work/native.targets" -o "$out" "$@" >&2
echo "$out/LlmGateway"
