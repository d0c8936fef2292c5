module leakhunter.dev/lab

go 1.24

require github.com/sourcegraph/conc v0.3.0

// A stand-in of conc's pool with its lifecycle (lab/third_party/conc): the lab builds offline.
replace github.com/sourcegraph/conc => ./third_party/conc
