"""The program model: what `scan` knows about a Go module beyond one function's syntax.

Rules used to recognise resources and channels by the names in one function; once a value
left the statement that made it (a wrapper, a struct field, a method value, a helper that
closes it) they had to guess. This package answers instead, from declarations and types:

- `index`: declarations of the module and of the packages it imports (GOROOT for the
  standard library, the module cache for dependencies), read lazily and cached.
- `types`: the declared type of an expression (`:=` of a call, `a.hc`, a method value,
  a generic wrapper's result), from the index.
- `summaries`: bottom-up function summaries about resources (returns one, releases or
  stores or hands off its parameter).
- `concurrency`: channel and sync facts across a package (struct-field channels, which
  functions block on which channel, sends/receives/closes reachable), used by the
  goroutine rules.
- `once`: which functions run at most once per process run (`main`, `init`, a CLI command, what
  only they call): what they start lives as long as the program by design.

It sits under `source/` and imports nothing above it.
"""
