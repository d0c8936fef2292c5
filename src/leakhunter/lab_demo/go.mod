module leakhunter.dev/demo

go 1.21
