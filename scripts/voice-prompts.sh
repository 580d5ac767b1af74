#!/bin/sh
# voice-prompts.sh makes the default voice prompts: every line of
# intake/prompts/texts.tsv (lang, name, text) spoken by espeak-ng and
# converted by sox to the format Twilio plays on a phone line with no
# resampling: WAV, 8 kHz, mono, 16-bit PCM. The files are committed and
# embedded in the binary, so a fresh install has every prompt.
#
#   apt-get install espeak-ng sox
#   scripts/voice-prompts.sh            # all prompts
#   scripts/voice-prompts.sh en         # one language
#
# To use studio recordings instead, replace intake/prompts/<lang>/<name>.wav
# with a file in the same format (sox in.wav -r 8000 -c 1 -b 16 out.wav)
# and rebuild; do not run this script afterwards, or it overwrites them.
set -eu
cd "$(dirname "$0")/.."
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "voice-prompts: $tool is not installed (apt-get install espeak-ng sox)" >&2; exit 1; }
done
only=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# espeak-ng names English "en-us"; the others by their code.
voice() { case "$1" in en) echo en-us ;; *) echo "$1" ;; esac; }
n=0
while IFS="$(printf '\t')" read -r lang name text; do
	case "$lang" in ''|'#'*) continue ;; esac
	[ -z "$only" ] || [ "$only" = "$lang" ] || continue
	mkdir -p "intake/prompts/$lang"
	espeak-ng -v "$(voice "$lang")" -s 150 -w "$tmp/raw.wav" -- "$text"
	# Normalised to -1 dB without dither (the same text gives the same
	# file), with a little silence so prompts do not run together.
	sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "intake/prompts/$lang/$name.wav" gain -n -1 pad 0 0.25
	n=$((n + 1))
done < intake/prompts/texts.tsv
echo "voice-prompts: wrote $n prompts under intake/prompts/"
