#!/bin/sh
# terminal.sh GRADTAPE - a session in a real pseudo-terminal (tmux): edits a line with the
# arrow keys, recalls history with Up, completes a name with Tab, abandons a line with
# Ctrl-C, shows a caret under an error, keeps history in $HOME/.gradtape_history, leaves
# on Ctrl-D, and a second session recalls the first one's lines. Exits 77 (skipped) when tmux is not installed.
set -u
gradtape=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
home=$(mktemp -d) || exit 1
sock="gradtape-test-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$home"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- screen:"
  tmux -L "$sock" capture-pane -p -t repl 2>/dev/null
  exit 1
}
keys() { tmux -L "$sock" send-keys -t repl "$@"; }
# Waits until the screen shows the fixed string $1; fails when the session has ended
# without showing it. No clock decides: a slow build only waits longer (the 5 minutes
# below are a safety net for a session that hangs, not a time anything should take).
wait_for() {
  i=0
  while [ $i -lt 3000 ]; do
    screen=$(tmux -L "$sock" capture-pane -p -t repl)
    printf '%s\n' "$screen" | grep -qF -- "$1" && return 0
    printf '%s\n' "$screen" | grep -q '^EXITED' && fail "the session ended without showing: $1"
    sleep 0.1
    i=$((i + 1))
  done
  fail "the screen never showed: $1"
}
# Waits until the last line with text is the bare prompt $1 (gt> or ...): the session
# reads keys again, so keys sent now are not typed over a statement's output.
wait_prompt() {
  i=0
  while [ $i -lt 100 ]; do
    [ "$(tmux -L "$sock" capture-pane -p -t repl | grep -v '^$' | tail -1)" = "$1" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  fail "no prompt '$1' at the end of the screen"
}

env -u TMUX tmux -L "$sock" -f /dev/null new-session -d -s repl -x 100 -y 40 \
  "HOME='$home' TERM=xterm '$gradtape'; echo EXITED \$?; sleep 30" || fail "tmux did not start"
wait_for "gradtape "
wait_prompt "gt>"
keys 'weights = [1, 2, 3]' Enter
wait_for "gt> "
# Tab completes a variable name, then a builtin name
wait_prompt "gt>"
keys 'sum(wei' Tab ')' Enter
wait_for "gt> sum(weights)"
wait_for "tensor(6, shape=[])"
wait_prompt "gt>"
keys 'log_so' Tab '(weights)' Enter
wait_for "gt> log_softmax(weights)"
# Left arrow: type "2 3", move back, insert "+ "
wait_prompt "gt>"
keys '2 3' Left '+ ' Enter
wait_for "gt> 2 + 3"
# Ctrl-C abandons the line, the session goes on
wait_prompt "gt>"
keys 'this line is abandoned' C-c
wait_prompt "gt>"
keys '40 + 2' Enter
wait_for "42"
# Up recalls the previous line
wait_for "42"
wait_prompt "gt>"
keys Up Enter
keys '1000 + 1' Enter # its answer shows that the recalled line has been run
wait_for "1001"
i=$(tmux -L "$sock" capture-pane -p -t repl | grep -c '^gt> 40 + 2$')
[ "$i" -eq 2 ] || fail "Up did not recall '40 + 2'"
# an error shows a caret under its column
wait_prompt "gt>"
keys 'weights @ 1' Enter
wait_for "error: matmul:"
tmux -L "$sock" capture-pane -p -t repl | grep -q '^            ^$' || fail "no caret at column 9"
# a block at the prompt: '... ' asks for more lines until an empty one
wait_prompt "gt>"
keys 'for i in range(3):' Enter
wait_for "..."
keys '    print(i * 111)' Enter Enter
wait_for "222"
# Ctrl-C stops a running while 1 and the session keeps its names
wait_prompt "gt>"
keys 'n = 0' Enter 'while 1:' Enter '    n = n + 1' Enter '    if n == 1000: print("spin")' Enter Enter
wait_for "spin"
keys C-c
wait_for "interrupted (Ctrl-C)"
wait_prompt "gt>"
keys 'print(n >= 1000, "kept")' Enter
wait_for "True kept"
# Ctrl-D leaves; history was written
wait_prompt "gt>"
keys C-d
wait_for "EXITED 0"
grep -q 'weights' "$home/.gradtape_history" || fail "no history file in \$HOME"
if grep -q 'abandoned' "$home/.gradtape_history"; then fail "an abandoned line was kept"; fi
# a new session recalls the last one's lines with Up
tmux -L "$sock" kill-session -t repl
env -u TMUX tmux -L "$sock" -f /dev/null new-session -d -s repl -x 100 -y 40 \
  "HOME='$home' TERM=xterm '$gradtape'; echo EXITED \$?; sleep 30" || fail "tmux did not start again"
wait_for "gradtape "
wait_prompt "gt>"
keys 'weights = [5, 6]' Enter
wait_for "gt> "
wait_prompt "gt>"
keys Up Up Enter # the new line, then the last session's last line
wait_for 'gt> print(n >= 1000, "kept")'
wait_prompt "gt>"
keys C-d
wait_for "EXITED 0"
echo "terminal session: ok"
