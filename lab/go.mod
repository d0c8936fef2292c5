module leakhunter.dev/lab

go 1.24
