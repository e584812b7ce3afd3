module agora

go 1.26.8

require (
	github.com/jmoiron/sqlx v1.4.0
	github.com/lib/pq v1.12.3
	golang.org/x/net v0.62.0
)

require golang.org/x/text v0.43.0 // indirect
