// DeepStackReply::parse, the client's reading of what a DeepStack / CodeProject.AI server (or
// anything answering on its port) sent. Besides crashes and over-reads: an answer read as Ok
// has only boxes a caller can map and draw (finite, not negative in size, confidence within
// 0..1, highest confidence first); any other outcome says why.
//
// Input: bytes 0-1 pick the HTTP status (mostly the ones the parser tells apart), the rest is
// the body.

#include "client/deepstackreply.h"
#include "fuzzsupport.h"

#include <cmath>

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static constexpr int kStatuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 413, 429, 500, 502, 503, 204, 302};
    const int pick = data[0] | (data[1] << 8);
    const int status = pick < 0x8000 ? kStatuses[pick % std::size(kStatuses)] : pick % 1000;
    const QByteArray body = fuzz::bytes(data + 2, size - 2);
    const DeepStackReply reply = DeepStackReply::parse(status, body, QStringLiteral("fuzz.local:5000"));
    const QByteArray context = QByteArray::number(status) + ' ' + reply.message.toUtf8();
    if (reply.outcome != DeepStackReply::Outcome::Ok) {
        FUZZ_CHECK(!reply.message.isEmpty(), context);
        FUZZ_CHECK(reply.detections.isEmpty(), context);
        return 0;
    }
    FUZZ_CHECK(status == 200, context);
    float previous = 1.0f;
    for (const Detection &d : reply.detections) {
        const QByteArray box = context + " box " + QByteArray::number(d.box.x()) + ',' + QByteArray::number(d.box.y())
            + ' ' + QByteArray::number(d.box.width()) + 'x' + QByteArray::number(d.box.height());
        FUZZ_CHECK(std::isfinite(d.box.x()) && std::isfinite(d.box.y()), box);
        FUZZ_CHECK(std::isfinite(d.box.width()) && std::isfinite(d.box.height()), box);
        FUZZ_CHECK(d.box.width() >= 0 && d.box.height() >= 0, box);
        FUZZ_CHECK(d.confidence >= 0.0f && d.confidence <= 1.0f, box);
        FUZZ_CHECK(d.confidence <= previous, box);
        FUZZ_CHECK(d.classId >= -1 && d.classId < 80, box);
        previous = d.confidence;
    }
    FUZZ_CHECK(std::isfinite(reply.inferenceMs) && std::isfinite(reply.processMs), context);
    return 0;
}
