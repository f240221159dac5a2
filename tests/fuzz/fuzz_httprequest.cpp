// HttpRequestParser and what the DeepStack API reads from a request's body (the multipart or
// url-encoded form, MultipartFormData, DeepStackRequest). The stream is fed whole and again
// cut at pseudo-random points, the way a connection feeds it (a request at a time, the head
// before the body): both deliveries must yield the same requests and the same refusal. A
// complete request's body has exactly its Content-Length; every form field's data is a piece
// of the body; a request valid for detection has an image.
//
// Input: byte 0 picks the limits, bytes 1-4 seed the cut points, the rest is the stream.

#include "fuzzsupport.h"
#include "http/deepstackrequest.h"
#include "http/httprequestparser.h"

#include <QList>

using namespace edgelens;

namespace {

QByteArray flatten(const HttpRequest &r)
{
    QByteArray out = r.method + ' ' + r.target + ' ' + QByteArray::number(r.minorVersion) + (r.keepAlive ? " k" : " c")
        + (r.expectContinue ? " e\n" : " -\n");
    for (const auto &[name, value] : r.headers)
        out += name + ": " + value + '\n';
    return out + '\n' + r.body;
}

// The connection's loop: feed what the parser takes, hand over complete requests.
QList<QByteArray> parse(const HttpRequestParser::Limits &limits, const QList<QByteArray> &chunks)
{
    HttpRequestParser parser(limits);
    QList<QByteArray> events;
    for (const QByteArray &chunk : chunks) {
        qsizetype at = 0;
        while (at < chunk.size()) {
            const qsizetype taken = parser.feed(chunk.constData() + at, chunk.size() - at);
            FUZZ_CHECK(taken >= 0 && taken <= chunk.size() - at, chunk);
            at += taken;
            if (parser.state() == HttpRequestParser::State::Failed) {
                FUZZ_CHECK(parser.errorStatus() >= 400 && parser.errorStatus() < 600, chunk);
                events.append("failed " + QByteArray::number(parser.errorStatus()));
                return events;
            }
            if (parser.state() == HttpRequestParser::State::Complete) {
                FUZZ_CHECK(parser.request().body.size() == parser.bodyExpected(), flatten(parser.request()));
                FUZZ_CHECK(parser.bodyExpected() <= limits.maxBodyBytes, flatten(parser.request()));
                events.append(flatten(parser.takeRequest()));
                parser.next();
            } else if (taken == 0) {
                break; // needs more than this chunk holds
            }
        }
    }
    return events;
}

void checkForm(const HttpRequest &request)
{
    DeepStackRequest form = DeepStackRequest::fromHttp(request.header("content-type"), request.body,
                                                       request.header("authorization"));
    // A multipart field is a piece of the body as it came (url-encoded ones are decoded).
    if (!MultipartFormData::boundary(request.header("content-type")).isEmpty()) {
        for (const FormPart &part : form.form().parts())
            FUZZ_CHECK(request.body.contains(part.data), request.body);
    }
    QString error;
    if (form.validateForDetection(&error))
        FUZZ_CHECK(!form.image().isEmpty(), request.body);
    else
        FUZZ_CHECK(!error.isEmpty(), request.body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bool quiet = (edgelens::fuzz::quietQtMessages(), true);
    Q_UNUSED(quiet);
    if (size < 5)
        return 0;
    const HttpRequestParser::Limits limits{qsizetype(64 + (data[0] & 0x0F) * 256), qint64((data[0] >> 4) * 512)};
    quint32 seed = quint32(data[1]) | quint32(data[2]) << 8 | quint32(data[3]) << 16 | quint32(data[4]) << 24;
    const QByteArray stream = edgelens::fuzz::bytes(data + 5, size - 5);

    const QList<QByteArray> whole = parse(limits, {stream});
    QList<QByteArray> chunks;
    for (qsizetype at = 0; at < stream.size();) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype length = qMin<qsizetype>(stream.size() - at, 1 + (seed >> 16) % 64);
        chunks.append(stream.mid(at, length));
        at += length;
    }
    const QList<QByteArray> cut = parse(limits, chunks);
    FUZZ_CHECK(whole == cut, whole.join("\n---\n") + "\n=== cut ===\n" + cut.join("\n---\n"));

    // The forms of the complete requests, read as the API reads them.
    HttpRequestParser parser(limits);
    qsizetype at = 0;
    while (at < stream.size()) {
        const qsizetype taken = parser.feed(stream.constData() + at, stream.size() - at);
        at += taken;
        if (parser.state() == HttpRequestParser::State::Failed)
            break;
        if (parser.state() == HttpRequestParser::State::Complete) {
            checkForm(parser.takeRequest());
            parser.next();
        } else if (taken == 0) {
            break;
        }
    }
    return 0;
}
