# zoneproof as one static binary on an empty image.
#
# The builder runs deploy/static-build.sh, the same script a developer or the tests run: every
# library is compiled with musl from Debian's source packages, and zoneproof is linked fully
# statically. The final image holds the binary and the CA bundle, nothing else, and runs as a
# non-root user.
#
#   docker build -t zoneproof .

FROM debian:12 AS build
# The CA bundle the final image ships comes from Debian's ca-certificates.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, from the script alone: this layer stays cached while the sources change.
COPY deploy/static-build.sh deploy/static-build.sh
RUN ZP_STATIC_CACHE=/opt/zp-static bash deploy/static-build.sh --deps-only
COPY . .
RUN ZP_STATIC_CACHE=/opt/zp-static ZP_STATIC_BUILD_DIR=/out bash deploy/static-build.sh \
 && /out/cmd/zoneproof version

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/cmd/zoneproof /zoneproof
# libcurl defaults to this bundle already; OpenSSL's own default lookups find it through this.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/zoneproof"]
CMD ["serve"]
