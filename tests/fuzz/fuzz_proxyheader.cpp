// ProxyHeader (PROXY protocol v1 and v2), what a --proxy-protocol server reads before anything
// else on a connection. Besides crashes and over-reads: the bytes are looked at as they arrive,
// so every prefix of the input must give NeedMore or exactly the answer the whole input gives
// (a header split by the network at any byte parses the same); kMaxV2 bytes always decide
// (the connection buffers no more than that while it waits); a header that is Done is
// within the bytes and the limits, and names a client unless it says it has none.

#include "fuzzsupport.h"
#include "net/proxyheader.h"

using namespace edgelens;

namespace {

// What must not depend on where the bytes were cut (the reason for a refusal may: a line cut
// before its CRLF is too long, the whole line has too many fields).
QByteArray describe(ProxyHeader::Status status, const ProxyHeader &h)
{
    switch (status) {
    case ProxyHeader::Status::NeedMore:
        return "need more";
    case ProxyHeader::Status::Invalid:
        return "invalid";
    case ProxyHeader::Status::Done:
        break;
    }
    return "done v" + QByteArray::number(h.version) + (h.local ? " local" : " ") + h.source.toString().toUtf8() + ':'
        + QByteArray::number(h.sourcePort) + " -> " + h.destination.toString().toUtf8() + ':'
        + QByteArray::number(h.destinationPort) + " in " + QByteArray::number(h.length);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray whole = fuzz::bytes(data, size).left(ProxyHeader::kMaxV2 + 64);
    const QByteArray seen = whole.left(ProxyHeader::kMaxV2); // what ClientConnection passes
    ProxyHeader header;
    QString error;
    const ProxyHeader::Status status = ProxyHeader::parse(seen, &header, &error);
    const QByteArray outcome = describe(status, header) + ' ' + error.toUtf8();
    const QByteArray decision = describe(status, header);
    switch (status) {
    case ProxyHeader::Status::NeedMore:
        FUZZ_CHECK(seen.size() < ProxyHeader::kMaxV2, outcome);
        break;
    case ProxyHeader::Status::Invalid:
        FUZZ_CHECK(!error.isEmpty(), outcome);
        break;
    case ProxyHeader::Status::Done:
        FUZZ_CHECK(header.version == 1 || header.version == 2, outcome);
        FUZZ_CHECK(header.length > 0 && header.length <= seen.size(), outcome);
        FUZZ_CHECK(header.length <= (header.version == 1 ? ProxyHeader::kMaxV1 : ProxyHeader::kMaxV2), outcome);
        FUZZ_CHECK(header.local || !header.source.isNull(), outcome);
        FUZZ_CHECK(header.local || header.source.protocol() == header.destination.protocol(), outcome);
        break;
    }
    // Every shorter delivery: undecided, or decided the same way.
    for (qsizetype n = 0; n < seen.size(); ++n) {
        ProxyHeader partial;
        QString partialError;
        const ProxyHeader::Status s = ProxyHeader::parse(seen.left(n), &partial, &partialError);
        if (s == ProxyHeader::Status::NeedMore)
            continue;
        const QByteArray early = describe(s, partial);
        FUZZ_CHECK(early == decision, "after " + QByteArray::number(n) + " bytes: " + early + " " + partialError.toUtf8() + "\nwhole: " + outcome);
    }
    return 0;
}
