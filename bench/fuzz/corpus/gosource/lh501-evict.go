package lh501

func evict(k string) {
	fmu.Lock()
	defer fmu.Unlock()
	delete(cache, k)
}

var _ = evict
