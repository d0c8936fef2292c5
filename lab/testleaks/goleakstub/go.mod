// A stand-in for go.uber.org/goleak (its VerifyTestMain's shape: it runs the tests and
// exits itself), so the lab builds with no download.
module go.uber.org/goleak

go 1.22
