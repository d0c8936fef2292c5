module leakhunter.dev/lab/go122

// go 1.22 on purpose: a main module below 1.23 keeps the old timer semantics
// (asynctimerchan=1 on toolchains that still have it: unstopped tickers are never collected).
go 1.22
