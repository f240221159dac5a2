// FrameReader in legacy, v2 and auto-detect mode. The stream is fed whole and again cut at
// pseudo-random points: both deliveries must yield the same frames and the same error, as the
// reader promises (a frame split at any byte parses the same). Every v2 message re-encoded and
// parsed again must come back unchanged.
//
// Input: byte 0 picks the mode and the frame limit, bytes 1-4 seed the cut points, the rest is
// the stream.

#include "fuzzsupport.h"
#include "protocol/protocol.h"

#include <QJsonDocument>
#include <QList>

using namespace edgelens::protocol;

namespace {

// One observable outcome of the reader, comparable between deliveries.
struct Event
{
    QByteArray legacyPayload;
    QByteArray message; // type, id, compact meta and blob, flattened
    QByteArray error;   // code and text

    bool operator==(const Event &other) const
    {
        return legacyPayload == other.legacyPayload && message == other.message && error == other.error;
    }
};

QByteArray flatten(const Message &m)
{
    return QByteArray::number(quint16(m.type)) + ' ' + QByteArray::number(m.requestId) + ' '
        + QJsonDocument(m.meta).toJson(QJsonDocument::Compact) + '\n' + m.blob;
}

struct Parsed
{
    QList<Event> events;
    QList<Message> messages;
    FrameReader::Mode mode = FrameReader::Mode::AutoDetect;
};

// Feeds the chunks one by one, taking every frame as soon as it is ready.
Parsed parse(FrameReader::Mode mode, quint32 maxFrameBytes, const QList<QByteArray> &chunks)
{
    FrameReader reader(mode, maxFrameBytes);
    Parsed out;
    for (const QByteArray &chunk : chunks) {
        reader.append(chunk);
        for (;;) {
            const FrameReader::Status status = reader.poll();
            if (status == FrameReader::Status::NeedMore)
                break;
            Event event;
            if (status == FrameReader::Status::Error) {
                event.error = QByteArray::number(int(reader.errorCode())) + ' '
                    + QByteArray::number(reader.errorRequestId()) + ' ' + reader.errorString().toUtf8();
                FUZZ_CHECK(!reader.errorString().isEmpty(), QByteArray("an error without a message"));
                FUZZ_CHECK(reader.poll() == FrameReader::Status::Error, QByteArray("an error that went away"));
                out.events.append(event);
                out.mode = reader.mode();
                return out;
            }
            if (reader.mode() == FrameReader::Mode::Legacy) {
                event.legacyPayload = reader.takeLegacyPayload();
                FUZZ_CHECK(!event.legacyPayload.isEmpty() && quint32(event.legacyPayload.size()) <= maxFrameBytes,
                           QByteArray::number(event.legacyPayload.size()));
            } else {
                const Message message = reader.takeMessage();
                event.message = flatten(message);
                out.messages.append(message);
            }
            out.events.append(event);
        }
    }
    out.mode = reader.mode();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    edgelens::fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    static const FrameReader::Mode kModes[] = {FrameReader::Mode::AutoDetect, FrameReader::Mode::Legacy,
                                               FrameReader::Mode::V2};
    const FrameReader::Mode mode = kModes[(data[0] & 0x0f) % 3];
    // Small limits reach the too_large paths with small inputs; the default is what servers use.
    static const quint32 kLimits[] = {kDefaultMaxFrameBytes, 16, 64, 1024};
    const quint32 limit = kLimits[(data[0] >> 4) % 4];
    quint32 seed = quint32(data[1]) | quint32(data[2]) << 8 | quint32(data[3]) << 16 | quint32(data[4]) << 24;
    const QByteArray stream = edgelens::fuzz::bytes(data + 5, size - 5);

    const Parsed whole = parse(mode, limit, {stream});

    QList<QByteArray> chunks;
    for (qsizetype pos = 0; pos < stream.size();) {
        seed = seed * 1664525u + 1013904223u; // a fixed LCG: the same input always cuts the same way
        const qsizetype length = 1 + qsizetype((seed >> 16) % 17);
        chunks.append(stream.mid(pos, length));
        pos += length;
    }
    const Parsed split = parse(mode, limit, chunks);
    FUZZ_CHECK(whole.events == split.events,
               QByteArray("whole delivery gave ") + QByteArray::number(whole.events.size())
                   + " events, split delivery " + QByteArray::number(split.events.size()));
    FUZZ_CHECK(whole.mode == split.mode, QByteArray("the two deliveries chose different modes"));

    for (const Message &message : whole.messages) {
        const QByteArray encoded = encodeMessage(message);
        const Parsed again = parse(FrameReader::Mode::V2, kMaxFrameLimit, {encodePreamble() + encoded});
        FUZZ_CHECK(again.events.size() == 1 && again.events.first().error.isEmpty()
                       && again.events.first().message == flatten(message),
                   flatten(message));
    }
    return 0;
}
