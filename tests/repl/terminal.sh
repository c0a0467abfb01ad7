#!/bin/sh
# terminal.sh GRADTAPE - a session in a real pseudo-terminal (tmux): edits a line with the
# arrow keys, recalls history with Up, completes a name with Tab, abandons a line with
# Ctrl-C, shows a caret under an error, keeps history in $HOME/.gradtape_history, leaves
# on Ctrl-D, and a second session recalls the first one's lines; a block typed at the
# prompt ends at an empty line, and Ctrl-C stops a running loop and keeps the names. Exits
# 77 (skipped) when tmux is not installed.
#
# No step waits on timing luck. Keys are sent only when the REPL is at a prompt that its
# line editor has drawn (so it reads them in its own mode: between two lines the terminal
# is in line mode, which would echo keys, eat a Ctrl-D as end-of-file, or flush the typed
# keys on a Ctrl-C), and each step then waits for a screen that only the step's own effect
# can show: an output line that is not in the typed text, followed by a new prompt. Ctrl-C
# goes to a running loop only after the loop has printed a value (7000) that its source
# (print(n * 7)) does not contain.
set -u
gradtape=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
home=$(mktemp -d) || exit 1
sock="gradtape-test-$$"
first_sock=$sock
trap 'tmux -L "$first_sock" kill-server 2>/dev/null; tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$home"' EXIT
# A bound on the whole session in wall-clock seconds, below ctest's TIMEOUT (400 s): a
# session that hangs fails here, saying what it waited for and showing the screen. It is
# not a time anything should take (a few seconds; a minute under ASan on a loaded machine).
limit=300
deadline=$(($(date +%s) + limit))
fail() {
  echo "FAIL: $*"
  echo "--- screen:"
  tmux -L "$sock" capture-pane -p -t repl 2>/dev/null
  exit 1
}
keys() { tmux -L "$sock" send-keys -t repl "$@"; }

# poll WHAT CHECK [ARGS...]: reads the screen into $screen (trailing blanks dropped) until
# CHECK ARGS succeeds; fails when the session has ended first or at the deadline.
poll() {
  what=$1
  shift
  while :; do
    screen=$(tmux -L "$sock" capture-pane -p -t repl | sed 's/[[:space:]]*$//') ||
      fail "tmux cannot show the screen (waiting for $what)"
    "$@" && return 0
    printf '%s\n' "$screen" | grep -q '^EXITED' && fail "the session ended before $what"
    [ "$(date +%s)" -lt "$deadline" ] || fail "no $what within $limit s"
    sleep 0.1
  done
}
has_line() { printf '%s\n' "$screen" | grep -qxF -- "$1"; }
count_lines() { printf '%s\n' "$screen" | grep -cxF -- "$1"; }
nth_last() { printf '%s\n' "$screen" | grep -v '^$' | tail -n "$1" | head -n 1; }
last_is() { [ "$(nth_last 1)" = "$1" ]; }
# prompt_after exact|prefix|suffix TEXT: the screen ends with a line that is (begins with,
# ends with) TEXT and then the prompt "gt>": the line's output is out, and the line editor
# is reading keys again.
prompt_after() {
  [ "$(nth_last 1)" = "gt>" ] || return 1
  line=$(nth_last 2)
  case $1 in
    exact) [ "$line" = "$2" ] ;;
    prefix) case $line in "$2"*) ;; *) return 1 ;; esac ;;
    suffix) case $line in *"$2") ;; *) return 1 ;; esac ;;
  esac
}
# more_after TEXT: the screen ends with the line TEXT and then the block's prompt "...".
more_after() { [ "$(nth_last 1)" = "..." ] && [ "$(nth_last 2)" = "$1" ]; }
# after [prefix|suffix] TEXT: waits for prompt_after.
after() {
  mode=exact
  [ $# -eq 2 ] && mode=$1 && shift
  poll "'$1' ($mode) and then the prompt" prompt_after "$mode" "$1"
}
banner_prompt() { last_is "gt>" && case $(nth_last 2) in "gradtape "*) ;; *) false ;; esac; }
start_session() {
  env -u TMUX tmux -L "$sock" -f /dev/null new-session -d -s repl -x 100 -y 40 \
    "HOME='$home' TERM=xterm '$gradtape'; echo EXITED \$?; sleep 30" || fail "tmux did not start"
  poll "the banner and then the prompt" banner_prompt
}

start_session
keys 'weights = [1, 2, 3]' Enter
after 'gt> weights = [1, 2, 3]' # no output: the next prompt comes right after the line
# Tab completes a variable name, then a builtin name
keys 'sum(wei' Tab ')' Enter
after 'tensor(6, shape=[])'
has_line 'gt> sum(weights)' || fail "Tab did not complete 'wei'"
keys 'log_so' Tab '(weights)' Enter
after suffix '], shape=[3])'
has_line 'gt> log_softmax(weights)' || fail "Tab did not complete 'log_so'"
# Left arrow: type "2 3", move back, insert "+ "
keys '2 3' Left '+ ' Enter
after '5'
has_line 'gt> 2 + 3' || fail "Left did not move back"
# Ctrl-C abandons the line, the session goes on; the line is in the editor's hands first
keys 'this line is abandoned'
poll "the typed line" last_is 'gt> this line is abandoned'
keys C-c
after '^C'
keys '40 + 2' Enter
after '42'
# Up recalls the previous line
keys Up
poll "the recalled line" last_is 'gt> 40 + 2'
keys Enter
two_runs() { [ "$(count_lines 'gt> 40 + 2')" -eq 2 ] && prompt_after exact '42'; }
poll "the recalled line run" two_runs
keys '1000 + 1' Enter
after '1001'
# an error shows a caret under its column
keys 'weights @ 1' Enter
after prefix 'error: matmul:'
has_line '            ^' || fail "no caret at column 9"
# a block at the prompt: '... ' asks for more lines until an empty one
keys 'for i in range(3):' Enter
poll "the block's prompt" more_after 'gt> for i in range(3):'
keys '    print(i * 111)' Enter
poll "the block's prompt again" more_after '...     print(i * 111)'
keys Enter
after '222'
has_line '111' || fail "the loop did not print 111"
# Ctrl-C stops a running while 1 (once it has printed 7000, which only the running loop
# can show) and the names stay
keys 'n = 0' Enter
after 'gt> n = 0'
keys 'while 1:' Enter
poll "the block's prompt" more_after 'gt> while 1:'
keys '    n = n + 1' Enter
poll "the block's prompt" more_after '...     n = n + 1'
keys '    if n == 1000: print(n * 7)' Enter
poll "the block's prompt" more_after '...     if n == 1000: print(n * 7)'
keys Enter
poll "the loop's output 7000" has_line '7000'
keys C-c
after suffix 'error: interrupted (Ctrl-C)'
keys 'print(n >= 1000, "kept")' Enter
after 'True kept'
# Ctrl-D leaves; history was written before the program ended
keys C-d
poll "the end of the session" has_line 'EXITED 0'
grep -q 'weights' "$home/.gradtape_history" || fail "no history file in \$HOME"
if grep -q 'abandoned' "$home/.gradtape_history"; then fail "an abandoned line was kept"; fi
# a new session recalls the last one's lines with Up, on a tmux server of its own: a new
# session on the first one's socket could reach that server while it is still exiting
# ("server exited unexpectedly")
tmux -L "$sock" kill-server
sock="gradtape-test-$$-second"
start_session
keys 'weights = [5, 6]' Enter
after 'gt> weights = [5, 6]'
keys Up
poll "the recalled new line" last_is 'gt> weights = [5, 6]'
keys Up # the last session's last line
poll "the last session's line" last_is 'gt> print(n >= 1000, "kept")'
keys Enter
after "error: unknown name 'n'" # recalled and run in a session that has no n
keys C-d
poll "the end of the second session" has_line 'EXITED 0'
echo "terminal session: ok"
