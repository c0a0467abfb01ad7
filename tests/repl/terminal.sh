#!/bin/sh
# terminal.sh GRADTAPE - a session in a real pseudo-terminal (tmux): edits a line with the
# arrow keys, recalls history with Up, completes a name with Tab, abandons a line with
# Ctrl-C, shows a caret under an error, keeps history in $HOME/.gradtape_history, leaves
# on Ctrl-D, and a second session recalls the first one's lines; a block typed at the
# prompt ends at an empty line, and Ctrl-C stops a running loop and keeps the names. Exits 77 (skipped) when tmux is not installed.
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

# Waits until the session is back at its prompt (the screen's last line "gt>"), reading
# keys in its own mode: a Ctrl-D typed while a line is still being run meets the terminal's
# line mode, which takes it for end-of-file and loses it when the editor takes over again.
wait_for_prompt() {
  i=0
  while [ $i -lt 3000 ]; do
    last=$(tmux -L "$sock" capture-pane -p -t repl | grep -v '^ *$' | tail -n 1)
    [ "$last" = "gt>" ] || [ "$last" = "gt> " ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  fail "the session never came back to its prompt"
}

env -u TMUX tmux -L "$sock" -f /dev/null new-session -d -s repl -x 100 -y 40 \
  "HOME='$home' TERM=xterm '$gradtape'; echo EXITED \$?; sleep 30" || fail "tmux did not start"
# Each step waits for the output of the line before and then for the prompt, so that a
# Ctrl-C or Ctrl-D always reaches the line editor, never the terminal's line mode.
wait_for "gradtape "
wait_for_prompt
keys 'weights = [1, 2, 3]' Enter
wait_for "gt> weights = [1, 2, 3]"
wait_for_prompt
# Tab completes a variable name, then a builtin name
keys 'sum(wei' Tab ')' Enter
wait_for "gt> sum(weights)"
wait_for "tensor(6, shape=[])"
wait_for_prompt
keys 'log_so' Tab '(weights)' Enter
wait_for "gt> log_softmax(weights)"
wait_for "], shape=[3])"
wait_for_prompt
# Left arrow: type "2 3", move back, insert "+ "
keys '2 3' Left '+ ' Enter
wait_for "gt> 2 + 3"
wait_for_prompt
# Ctrl-C abandons the line, the session goes on
keys 'this line is abandoned'
wait_for "gt> this line is abandoned" # in the editor's hands: now Ctrl-C
keys C-c
wait_for_prompt # the terminal drops what is typed before Ctrl-C is handled: wait
keys '40 + 2' Enter
wait_for "42"
wait_for_prompt
# Up recalls the previous line
keys Up Enter
keys '1000 + 1' Enter # its answer shows that the recalled line has been run
wait_for "1001"
wait_for_prompt
i=$(tmux -L "$sock" capture-pane -p -t repl | grep -c 'gt> 40 + 2$')
[ "$i" -eq 2 ] || fail "Up did not recall '40 + 2'"
# an error shows a caret under its column
keys 'weights @ 1' Enter
wait_for "error: matmul:"
wait_for_prompt
tmux -L "$sock" capture-pane -p -t repl | grep -q '^            ^$' || fail "no caret at column 9"
# a block at the prompt: '... ' asks for more lines until an empty one
keys 'for i in range(3):' Enter
wait_for "..."
keys '    print(i * 111)' Enter Enter
wait_for "222"
wait_for_prompt
# Ctrl-C stops a running while 1 (once it has shown that it runs) and the names stay
keys 'n = 0' Enter 'while 1:' Enter '    n = n + 1' Enter '    if n == 1000: print("spin")' Enter Enter
wait_for "spin"
keys C-c
wait_for "interrupted (Ctrl-C)"
wait_for_prompt
keys 'print(n >= 1000, "kept")' Enter
wait_for "True kept"
wait_for_prompt
# Ctrl-D leaves; history was written
keys C-d
wait_for "EXITED 0"
grep -q 'weights' "$home/.gradtape_history" || fail "no history file in \$HOME"
if grep -q 'abandoned' "$home/.gradtape_history"; then fail "an abandoned line was kept"; fi
# a new session recalls the last one's lines with Up, on a tmux server of its own: a new
# session on the first one's socket could reach that server while it is still exiting
# ("server exited unexpectedly")
tmux -L "$sock" kill-server
sock="gradtape-test-$$-second"
env -u TMUX tmux -L "$sock" -f /dev/null new-session -d -s repl -x 100 -y 40 \
  "HOME='$home' TERM=xterm '$gradtape'; echo EXITED \$?; sleep 30" || fail "tmux did not start again"
wait_for "gradtape "
wait_for_prompt
keys 'weights = [5, 6]' Enter
wait_for "gt> weights = [5, 6]"
wait_for_prompt
keys Up Up Enter # the new line, then the last session's last line
wait_for 'gt> print(n >= 1000, "kept")'
wait_for "unknown name 'n'" # recalled and run in a session that has no n
wait_for_prompt
keys C-d
wait_for "EXITED 0"
echo "terminal session: ok"
