package user

// ArchiveSection is what the black-box tests see of an archive section: its
// key, whether it is one object, and the columns that make a row a person's.
type ArchiveSection struct {
	Key     string
	One     bool
	Columns []string
}

// ArchiveSections lists the archive's sections for the black-box tests.
func ArchiveSections() []ArchiveSection {
	out := make([]ArchiveSection, len(archiveSections))
	for i, s := range archiveSections {
		out[i] = ArchiveSection{Key: s.Key, One: s.One, Columns: s.Columns}
	}
	return out
}
