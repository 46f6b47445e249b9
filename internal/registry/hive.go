package registry

// mount is a hive file loaded under HKLM or HKU (RegLoadKey).
type mount struct {
	file  string
	root  *key
	dirty bool
}

func (r *Registry) writeMount(m *mount) error { return nil }
