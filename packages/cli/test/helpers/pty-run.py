#!/usr/bin/env python3
"""Runs a command in a real pseudo-terminal of a given size, as a person's terminal would.

    pty-run.py COLS ROWS -- command args...

Everything the command writes to the terminal is copied, raw (escape sequences
and all), to stdout. A line "ctrl-c" on stdin types Ctrl-C into the terminal
(the terminal driver then sends SIGINT to the command's process group, as a
keyboard does). Exits with the command's exit code, or 128 + the signal that
ended it. Python's standard library only: pty, termios, fcntl.
"""
import fcntl, os, pty, select, signal, struct, sys, termios

def main():
    cols, rows = int(sys.argv[1]), int(sys.argv[2])
    assert sys.argv[3] == '--'
    argv = sys.argv[4:]
    pid, master = pty.fork()
    if pid == 0:
        # The child: its controlling terminal is the pty; size it before the command starts.
        fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            sys.stderr.write("pty-run: cannot run %r: %s\n" % (argv, e))
            os._exit(127)
    out = sys.stdout.buffer
    stdin_open = True
    status = None
    while True:
        fds = [master] + ([sys.stdin.fileno()] if stdin_open else [])
        ready, _, _ = select.select(fds, [], [], 0.2)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b''
            if data:
                out.write(data)
                out.flush()
            elif status is not None:
                break
        if stdin_open and sys.stdin.fileno() in ready:
            line = sys.stdin.readline()
            if line == '':
                stdin_open = False
            elif line.strip() == 'ctrl-c':
                os.write(master, b'\x03')
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done != 0:
                status = st
        if status is not None and master not in ready:
            break
    # Whatever is still buffered in the pty.
    while True:
        r, _, _ = select.select([master], [], [], 0.1)
        if not r:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out.write(data)
    out.flush()
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))

main()
