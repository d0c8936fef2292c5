module leakhunter.dev/testleaksbroken

go 1.22
