# Authify from the binary built on the host (`cargo build --release`, Debian 12 like this image):
# no Rust toolchain in the image. The build context is the repository; .dockerignore sends only
# target/release/authify.
FROM authify-base:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/authify --shell /usr/sbin/nologin authify \
    && install -d -o authify -g authify -m 0700 /var/lib/authify /var/lib/authify/secrets
COPY target/release/authify /usr/local/bin/authify
USER authify
WORKDIR /var/lib/authify
EXPOSE 3000
CMD ["authify", "serve"]
