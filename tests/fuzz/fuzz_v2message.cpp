// One v2 message body (u32 JSON length, JSON, blob) behind a valid preamble and header, then
// everything a peer reads out of it: detect options, a result, an error. What those readers
// make of the meta must survive its own round trip (read, write, read gives the same).
//
// Input: bytes 0-1 are the message type (little endian), the rest is the body.

#include "fuzzsupport.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include <QJsonDocument>
#include <QtEndian>

using namespace edgelens;
using namespace edgelens::protocol;

namespace {

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const quint16 type = qFromLittleEndian<quint16>(data);
    const QByteArray body = fuzz::bytes(data + 2, size - 2);
    QByteArray header(kHeaderSize, '\0');
    qToLittleEndian<quint32>(quint32(body.size()), header.data());
    qToLittleEndian<quint16>(type, header.data() + 4);
    qToLittleEndian<quint32>(7u, header.data() + 8);

    FrameReader reader(FrameReader::Mode::AutoDetect);
    reader.append(encodePreamble() + header + body);
    const FrameReader::Status status = reader.poll();
    if (status != FrameReader::Status::Ready) {
        FUZZ_CHECK(status == FrameReader::Status::Error && !reader.errorString().isEmpty(),
                   QByteArray("a complete message neither parsed nor failed"));
        FUZZ_CHECK(reader.errorRequestId() == 7u, QByteArray("the error lost the request id"));
        return 0;
    }
    FUZZ_CHECK(reader.mode() == FrameReader::Mode::V2 && reader.peerVersion() == kVersion, QByteArray("mode"));
    const Message message = reader.takeMessage();
    FUZZ_CHECK(quint16(message.type) == type && message.requestId == 7u, QByteArray("header fields"));
    FUZZ_CHECK(reader.poll() == FrameReader::Status::NeedMore && !reader.midFrame(), QByteArray("left-over bytes"));

    (void)messageTypeName(message.type);
    (void)isKnownMessageType(type);
    const ErrorInfo error = errorFromMessage(message);
    FUZZ_CHECK(!error.name.isEmpty(), compact(message.meta));

    const QJsonObject options = toJson(detectOptionsFromJson(message.meta));
    FUZZ_CHECK(compact(toJson(detectOptionsFromJson(options))) == compact(options), compact(options));

    const QJsonObject result = toJson(detectionResultFromJson(message.meta));
    FUZZ_CHECK(compact(toJson(detectionResultFromJson(result))) == compact(result), compact(result));
    return 0;
}
