# ---- build ------------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /agora ./cmd/agora \
 && mkdir -p /out/var/lib/agora

# ---- run --------------------------------------------------------------------
# Static binary on distroless; runs as the image's unprivileged user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /agora /agora
# Storage directory, owned by the runtime user so a fresh volume is writable.
COPY --from=build --chown=65532:65532 /out/var/lib/agora /var/lib/agora
ENV AGORA_STORAGE_DIR=/var/lib/agora \
    AGORA_HTTP_ADDR=:8080
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/agora"]
CMD ["serve"]
