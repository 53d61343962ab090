#!/bin/sh
# scripts/gen-docs.sh - man pages and bash completion, made from the program's own --help, so
# that they say what the option tables say and nothing else. Run by the build (target docs)
# and installed by `cmake --install`.
# Usage: gen-docs.sh FLOWMIMIC OUTDIR
#   writes OUTDIR/man1/flowmimic.1, OUTDIR/man1/flowmimic-COMMAND.1 for each command, and
#   OUTDIR/completion/flowmimic (bash).
# The help texts follow one layout (cli/opts.c): "Usage: ..." and a line of description;
# "Options:" with entries "  -x, --long ARG   text" whose continuation lines are indented;
# free paragraphs; "Example(s):" with one command a line.
set -eu
fm=$1
out=$2
mkdir -p "$out/man1" "$out/completion"
version=$("$fm" --version | sed 's/^flowmimic //')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# The commands and their one-line summaries, from `flowmimic --help`.
commands=$("$fm" --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit}
    on && $1 != "help" {print $1}')

# roff_text: escape text for roff (backslashes, hyphens of options, lines starting with a dot
# or a quote).
roff_awk='
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    sub(/^[.'"'"']/, "\\\\\\&&", s)
    return s
}'

# man_page NAME SUMMARY: the page of one command, from its --help on stdin.
man_page() {
    awk -v name="$1" -v summary="$2" -v version="$version" -v date="$date" -v pages="$(echo $commands)" \
        "$roff_awk"'
    BEGIN {
        up = toupper(name)
        printf ".TH %s 1 \"%s\" \"flowmimic %s\" \"flowmimic manual\"\n", up, date, version
        printf ".SH NAME\n%s \\- %s\n", esc(name), esc(summary)
        state = "usage"
    }
    state == "usage" && /^Usage: / {
        sub(/^Usage: /, "")
        printf ".SH SYNOPSIS\n.B %s\n", esc($0)
        state = "desc"
        next
    }
    state == "desc" && /^ +[a-z]/ {
        sub(/^ +/, "")
        printf ".br\n.B %s\n", esc($0)
        next
    }
    state == "desc" {
        printf ".SH DESCRIPTION\n%s\n", esc($0)
        state = "text"
        next
    }
    # "Options:", and in the main page "Commands:" and "Global options:": a list of entries.
    /^[A-Z][a-z ]*:$/ && !/^Examples?:/ {
        printf ".SH %s\n", toupper(substr($0, 1, length($0) - 1))
        state = "opts"
        next
    }
    /^Examples?:/ {
        printf ".SH EXAMPLES\n.nf\n"
        state = "ex"
        sub(/^Examples?: */, "")
        if ($0 != "") print esc($0)
        next
    }
    state == "opts" && /^$/ { state = "after"; next }
    state == "after" && /^$/ { next }
    state == "after" { if (!notes++) printf ".SH NOTES\n"; state = "text" }
    # An entry starts 2 (short option) or 6 spaces in; its continuation lines further in.
    state == "opts" && /^(  |      )[-a-z]/ {
        line = $0
        sub(/^ +/, "", line)
        # The option and its argument end at a run of two spaces (or the line).
        if (match(line, /  +/)) {
            head = substr(line, 1, RSTART - 1)
            rest = substr(line, RSTART + RLENGTH)
        } else {
            head = line
            rest = ""
        }
        printf ".TP\n.B %s\n", esc(head)
        if (rest != "") print esc(rest)
        next
    }
    state == "opts" { sub(/^ +/, ""); print esc($0); next }
    state == "ex" && /^$/ { print ".fi"; state = "text"; next }
    state == "ex" { sub(/^ +/, ""); print esc($0); next }
    state == "text" && /^$/ { print ".PP"; next }
    state == "text" { print esc($0); next }
    END {
        if (state == "ex") print ".fi"
        printf ".SH SEE ALSO\n"
        if (name == "flowmimic") {
            n = split(pages, p, " ")
            for (i = 1; i <= n; i++) printf ".BR flowmimic\\-%s (1)%s\n", p[i], i < n ? "," : ""
        } else {
            print ".BR flowmimic (1)"
        }
    }'
}

"$fm" --help | man_page flowmimic "learn UDP video and voice flows from captures and play them back" \
    >"$out/man1/flowmimic.1.tmp"
mv "$out/man1/flowmimic.1.tmp" "$out/man1/flowmimic.1"
for c in $commands; do
    summary=$("$fm" --help | awk -v c="$c" '$1 == c {$1 = ""; sub(/^ +/, ""); print; exit}')
    "$fm" "$c" --help | man_page "flowmimic-$c" "$summary" >"$out/man1/flowmimic-$c.1.tmp"
    mv "$out/man1/flowmimic-$c.1.tmp" "$out/man1/flowmimic-$c.1"
done

# Bash completion: the commands, then each command's long and short options; an option that
# takes an argument completes files after it (most take a path or a value typed by hand).
{
    echo "# bash completion for flowmimic $version, made by scripts/gen-docs.sh from --help"
    echo "_flowmimic() {"
    echo '    local cur=${COMP_WORDS[COMP_CWORD]} cmd="" i opts=""'
    echo '    for ((i = 1; i < COMP_CWORD; i++)); do'
    echo '        case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac'
    echo '    done'
    echo '    case $cmd in'
    for c in $commands; do
        o=$("$fm" "$c" --help | awk '/^Options:$/ {on = 1; next} on && /^$/ {exit}
            on && /^(  |      )-/ {sub(/^ +/, ""); sub(/  .*/, ""); n = split($0, w, " ")
                for (i = 1; i <= n; i++) if (w[i] ~ /^-/) {s = w[i]; sub(/,$/, "", s); printf "%s ", s}}')
        echo "    $c) opts=\"${o% }\" ;;"
    done
    echo "    help) mapfile -t COMPREPLY < <(compgen -W \"$(echo $commands)\" -- \"\$cur\"); return ;;"
    echo "    \"\") mapfile -t COMPREPLY < <(compgen -W \"$(echo $commands) help -v -q --version --help\" -- \"\$cur\"); return ;;"
    echo '    esac'
    echo '    if [[ $cur == -* ]]; then'
    echo '        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")'
    echo '    else'
    echo '        mapfile -t COMPREPLY < <(compgen -f -- "$cur")'
    echo '    fi'
    echo '}'
    echo 'complete -o filenames -F _flowmimic flowmimic'
} >"$out/completion/flowmimic.tmp"
mv "$out/completion/flowmimic.tmp" "$out/completion/flowmimic"
