module leakhunter.dev/testleaks

go 1.22
