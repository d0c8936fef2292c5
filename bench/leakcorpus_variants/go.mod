module leakhunter.dev/leakcorpus_variants

go 1.24
