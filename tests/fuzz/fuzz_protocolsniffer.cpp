// ProtocolSniffer, which names what a client speaks from its first bytes. Besides crashes and
// over-reads: kMaxPrefix bytes always decide (the connection sniffs no further), and a
// decision taken on fewer bytes never changes when more arrive, so the network cutting the
// first packet anywhere does not change which session a client gets. Every kind has a name.

#include "fuzzsupport.h"
#include "net/protocolsniffer.h"

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes = fuzz::bytes(data, size).left(4 * ProtocolSniffer::kMaxPrefix);
    ProtocolSniffer::Kind decided = ProtocolSniffer::Kind::NeedMore;
    qsizetype decidedAt = -1;
    for (qsizetype n = 0; n <= bytes.size(); ++n) {
        const ProtocolSniffer::Kind kind = ProtocolSniffer::classify(bytes.left(n));
        FUZZ_CHECK(!ProtocolSniffer::describe(kind).isEmpty(), QByteArray::number(int(kind)));
        if (n >= ProtocolSniffer::kMaxPrefix)
            FUZZ_CHECK(kind != ProtocolSniffer::Kind::NeedMore, bytes.left(n).toHex());
        if (decidedAt >= 0) {
            FUZZ_CHECK(kind == decided, "decided " + QByteArray::number(int(decided)) + " after "
                                            + QByteArray::number(decidedAt) + " bytes, "
                                            + QByteArray::number(int(kind)) + " after " + QByteArray::number(n)
                                            + ": " + bytes.left(n).toHex());
        } else if (kind != ProtocolSniffer::Kind::NeedMore) {
            decided = kind;
            decidedAt = n;
        }
    }
    return 0;
}
