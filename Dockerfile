# Build: a static binary with templates, migrations and static files embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/convene ./cmd/convene

# Run: a small image with CA certificates (for Stripe) and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/convene /convene
ENV ADDR=:8080
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/convene"]
CMD ["serve"]
