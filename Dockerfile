# Tramontane in a container: a static Go binary on Debian with what the
# code_interpreter sandbox needs (bubblewrap, prlimit, Python with numpy,
# pandas and matplotlib). Runs as an unprivileged user.
#
#   docker build -t tramontane .
#   docker run -p 8080:8080 -e TRAMONTANE_BOOTSTRAP_KEY=... -v tramontane:/var/lib/tramontane tramontane
#
# code_interpreter needs unprivileged user namespaces inside the container:
# run with --security-opt seccomp=unconfined --security-opt apparmor=unconfined
# (or a seccomp profile allowing clone/unshare of user namespaces). Without
# them the tool reports itself unavailable; it never runs code unsandboxed.
# See docs/deployment.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tramontane ./cmd/tramontane

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      bubblewrap util-linux ca-certificates \
      python3 python3-numpy python3-pandas python3-matplotlib fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/tramontane --create-home tramontane
COPY --from=build /out/tramontane /usr/local/bin/tramontane
USER 10001:10001
ENV TRAMONTANE_ADDR=0.0.0.0:8080 \
    TRAMONTANE_DATA_DIR=/var/lib/tramontane
VOLUME /var/lib/tramontane
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tramontane"]
CMD ["serve"]
