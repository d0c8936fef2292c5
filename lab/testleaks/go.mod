module leakhunter.dev/testleaks

go 1.22

require go.uber.org/goleak v1.3.0

replace go.uber.org/goleak => ./goleakstub
