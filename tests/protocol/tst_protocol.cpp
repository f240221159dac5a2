#include "protocol/protocol.h"

#include "testdata.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QRandomGenerator>
#include <QTest>
#include <QtEndian>

#include <cmath>

using namespace edgelens;
using namespace edgelens::protocol;

namespace {

QByteArray fromHex(const char *hex)
{
    return QByteArray::fromHex(QByteArray(hex).replace(' ', ""));
}

QByteArray someImageBytes(int size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        bytes[i] = char((i * 31 + 7) & 0xFF);
    return bytes;
}

// One example of every message type, with ids and payloads that differ from each other.
QList<Message> everyMessage()
{
    DetectOptions options;
    options.confidence = 0.25f;
    options.nmsIou = 0.6f;
    options.maxDetections = 7;
    options.classFilter = {0, 2, 16};
    options.model = QStringLiteral("yolox-nano-640");
    options.returnImage = false;
    options.jpegQuality = 75;
    options.deadlineMs = 250;

    DetectionResult result;
    result.imageWidth = 640;
    result.imageHeight = 480;
    result.model = QStringLiteral("nanodet-m-320");
    result.detections.append({0, QStringLiteral("person"), 0.875f, QRectF(10.5, 20, 100, 200)});
    result.detections.append({16, QStringLiteral("dog"), 0.5f, QRectF(300, 310, 40.25, 50)});
    result.timings = {1.5, 20.25, 0.75, 3.0};

    return {
        makeDetect(1, options, someImageBytes(1000)),
        makeResult(1, result, someImageBytes(500)),
        makeInfoRequest(2),
        makeInfo(2, QJsonObject{{QStringLiteral("protocol_version"), 2}, {QStringLiteral("models"), QJsonArray{}}}),
        makePing(3, QByteArrayLiteral("hello")),
        makePong(makePing(3, QByteArrayLiteral("hello"))),
        makeAuth(4, QStringLiteral("s3cret")),
        makeAuthOk(4),
        makeError(5, ErrorCode::UnknownModel, QStringLiteral("no model named \"x\"")),
    };
}

QByteArray v2Stream(const QList<Message> &messages)
{
    QByteArray stream = encodePreamble();
    for (const Message &m : messages)
        stream += encodeMessage(m);
    return stream;
}

void compareMessages(const Message &actual, const Message &expected)
{
    QCOMPARE(quint16(actual.type), quint16(expected.type));
    QCOMPARE(actual.requestId, expected.requestId);
    QCOMPARE(actual.meta, expected.meta);
    QCOMPARE(actual.blob, expected.blob);
}

// Feeds the chunks one by one, collecting every message; fails the test on a parse error.
QList<Message> parseV2(FrameReader &reader, const QList<QByteArray> &chunks)
{
    QList<Message> out;
    for (const QByteArray &chunk : chunks) {
        reader.append(chunk);
        for (;;) {
            const FrameReader::Status status = reader.poll();
            if (status == FrameReader::Status::Error) {
                qWarning() << "unexpected error:" << reader.errorString();
                return {};
            }
            if (status == FrameReader::Status::NeedMore)
                break;
            out.append(reader.takeMessage());
        }
    }
    return out;
}

} // namespace

class TestProtocol : public QObject
{
    Q_OBJECT

private slots:
    void detectOptions_outOfFloatRange_becomeNaNThatRangeChecksRefuse()
    {
        // A client may send 1e300; converting it to float used to be undefined behaviour.
        const DetectOptions options = detectOptionsFromJson(
            QJsonObject{{QStringLiteral("confidence"), 1e300}, {QStringLiteral("nms_iou"), -1e300}});
        QVERIFY(std::isnan(options.confidence));
        QVERIFY(std::isnan(options.nmsIou));
        QVERIFY(!(options.confidence >= 0.0f && options.confidence <= 1.0f));
        const DetectOptions fine = detectOptionsFromJson(QJsonObject{{QStringLiteral("confidence"), 0.25}});
        QCOMPARE(fine.confidence, 0.25f);
    }

    void preamble_isMagicVersionAndZeroFlags()
    {
        QCOMPARE(encodePreamble(), fromHex("454c4e53 0200 0000"));
        QCOMPARE(kVersion, quint16(2));
    }

    void ping_encodesToTheDocumentedBytes()
    {
        // 12-byte header (body 11, type 3, reserved 0, id 7), JSON length 2, "{}", blob "abcde".
        QCOMPARE(encodeMessage(makePing(7, QByteArrayLiteral("abcde"))),
                 fromHex("0b000000 0300 0000 07000000 02000000 7b7d 6162636465"));
    }

    void legacyFrame_isLittleEndianLengthThenPayload()
    {
        QCOMPARE(encodeLegacyFrame(QByteArrayLiteral("\xff\xd8\xff")), fromHex("03000000 ffd8ff"));
        QCOMPARE(encodeLegacyFrame(someImageBytes(0x010203)).left(4), fromHex("03020100"));
    }

    void legacyFrame_parsesAtEverySplitPoint()
    {
        const QByteArray payload = someImageBytes(300);
        const QByteArray frame = encodeLegacyFrame(payload);
        for (int split = 0; split <= frame.size(); ++split) {
            FrameReader reader(FrameReader::Mode::AutoDetect);
            reader.append(frame.left(split));
            if (split < frame.size()) {
                QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
                QCOMPARE(reader.midFrame(), split > 0);
                QCOMPARE(reader.bufferedBytes(), qint64(split));
            }
            reader.append(frame.mid(split));
            QCOMPARE(reader.poll(), FrameReader::Status::Ready);
            QCOMPARE(reader.mode(), FrameReader::Mode::Legacy);
            QCOMPARE(reader.takeLegacyPayload(), payload);
            QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
            QVERIFY(!reader.midFrame());
        }
    }

    void legacyFrame_parsesFedOneByteAtATime()
    {
        const QByteArray payload = someImageBytes(97);
        const QByteArray frame = encodeLegacyFrame(payload);
        FrameReader reader(FrameReader::Mode::Legacy);
        for (int i = 0; i < frame.size() - 1; ++i) {
            reader.append(frame.mid(i, 1));
            QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
        }
        reader.append(frame.right(1));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeLegacyPayload(), payload);
    }

    void severalLegacyFramesInOneRead_allParse()
    {
        const QByteArray a = someImageBytes(10), b = QByteArrayLiteral("second"), c = someImageBytes(1);
        FrameReader reader(FrameReader::Mode::Legacy);
        reader.append(encodeLegacyFrame(a) + encodeLegacyFrame(b) + encodeLegacyFrame(c));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeLegacyPayload(), a);
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeLegacyPayload(), b);
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeLegacyPayload(), c);
        QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
    }

    void v2Stream_parsesAtEverySplitPoint()
    {
        const QList<Message> messages = everyMessage();
        const QByteArray stream = v2Stream(messages);
        for (int split = 0; split <= stream.size(); ++split) {
            FrameReader reader(FrameReader::Mode::AutoDetect);
            const QList<Message> parsed = parseV2(reader, {stream.left(split), stream.mid(split)});
            QCOMPARE(parsed.size(), messages.size());
            for (int i = 0; i < parsed.size(); ++i)
                compareMessages(parsed.at(i), messages.at(i));
            QCOMPARE(reader.mode(), FrameReader::Mode::V2);
            QCOMPARE(reader.peerVersion(), kVersion);
            QVERIFY(!reader.midFrame());
        }
    }

    void v2Stream_parsesAtEveryPairOfSplitPoints()
    {
        // Three chunks with both cut points anywhere inside the preamble and first messages.
        const QList<Message> messages = {makePing(1, "x"), makeAuth(2, QStringLiteral("t")), makeInfoRequest(3)};
        const QByteArray stream = v2Stream(messages);
        for (int a = 0; a <= stream.size(); ++a) {
            for (int b = a; b <= stream.size(); ++b) {
                FrameReader reader(FrameReader::Mode::V2);
                const QList<Message> parsed = parseV2(reader, {stream.left(a), stream.mid(a, b - a), stream.mid(b)});
                QCOMPARE(parsed.size(), messages.size());
                compareMessages(parsed.last(), messages.last());
            }
        }
    }

    void v2Stream_parsesFedOneByteAtATime()
    {
        const QList<Message> messages = everyMessage();
        const QByteArray stream = v2Stream(messages);
        QList<QByteArray> bytes;
        for (int i = 0; i < stream.size(); ++i)
            bytes.append(stream.mid(i, 1));
        FrameReader reader(FrameReader::Mode::AutoDetect);
        const QList<Message> parsed = parseV2(reader, bytes);
        QCOMPARE(parsed.size(), messages.size());
        for (int i = 0; i < parsed.size(); ++i)
            compareMessages(parsed.at(i), messages.at(i));
    }

    void everyMessage_roundTrips_data()
    {
        QTest::addColumn<int>("index");
        const QList<Message> messages = everyMessage();
        for (int i = 0; i < messages.size(); ++i)
            QTest::newRow(qPrintable(messageTypeName(messages.at(i).type))) << i;
    }

    void everyMessage_roundTrips()
    {
        QFETCH(int, index);
        const Message message = everyMessage().at(index);
        FrameReader reader(FrameReader::Mode::V2);
        reader.append(encodePreamble() + encodeMessage(message));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        compareMessages(reader.takeMessage(), message);
        QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
    }

    void detectAndResult_keepTheirTypedContent()
    {
        const QList<Message> messages = everyMessage();
        FrameReader reader(FrameReader::Mode::V2);
        const QList<Message> parsed = parseV2(reader, {v2Stream(messages)});
        QCOMPARE(parsed.size(), messages.size());

        const DetectOptions options = detectOptionsFromJson(parsed.at(0).meta);
        QCOMPARE(options.confidence, 0.25f);
        QCOMPARE(options.nmsIou, 0.6f);
        QCOMPARE(options.maxDetections, 7);
        QCOMPARE(options.classFilter, (QSet<int>{0, 2, 16}));
        QCOMPARE(options.model, QStringLiteral("yolox-nano-640"));
        QCOMPARE(options.returnImage, false);
        QCOMPARE(options.jpegQuality, 75);
        QCOMPARE(options.deadlineMs, 250);
        QCOMPARE(detectOptionsFromJson({}).deadlineMs, -1); // none unless asked for
        QVERIFY(!toJson(DetectOptions()).contains(QStringLiteral("deadline_ms")));

        const DetectionResult result = detectionResultFromJson(parsed.at(1).meta);
        QCOMPARE(result.imageWidth, 640);
        QCOMPARE(result.detections.size(), 2);
        QCOMPARE(result.detections.at(1).label, QStringLiteral("dog"));
        QCOMPARE(result.detections.at(1).box, QRectF(300, 310, 40.25, 50));
        QCOMPARE(result.timings.inferenceMs, 20.25);

        const ErrorInfo error = errorFromMessage(parsed.last());
        QCOMPARE(error.code, ErrorCode::UnknownModel);
        QCOMPARE(error.name, QStringLiteral("unknown_model"));
        QCOMPARE(error.message, QStringLiteral("no model named \"x\""));
    }

    void largeFrameInSmallChunks_parsesOnce()
    {
        const Message message = makeDetect(42, {}, someImageBytes(3 * 1024 * 1024 + 17));
        const QByteArray stream = v2Stream({message});
        FrameReader reader(FrameReader::Mode::AutoDetect);
        QList<QByteArray> chunks;
        for (qsizetype i = 0; i < stream.size(); i += 4096)
            chunks.append(stream.mid(i, 4096));
        const QList<Message> parsed = parseV2(reader, chunks);
        QCOMPARE(parsed.size(), 1);
        compareMessages(parsed.first(), message);
    }

    void randomChunking_parsesTheSameAsOneRead()
    {
        const QList<Message> messages = everyMessage() + everyMessage();
        const QByteArray stream = v2Stream(messages);
        QRandomGenerator rng(1234);
        for (int round = 0; round < 50; ++round) {
            QList<QByteArray> chunks;
            for (qsizetype i = 0; i < stream.size();) {
                const int n = rng.bounded(1, 700);
                chunks.append(stream.mid(i, n));
                i += n;
            }
            FrameReader reader(FrameReader::Mode::AutoDetect);
            const QList<Message> parsed = parseV2(reader, chunks);
            QCOMPARE(parsed.size(), messages.size());
            compareMessages(parsed.at(9), messages.at(9));
        }
    }

    void autoDetect_choosesV2OnlyForTheMagic()
    {
        FrameReader v2(FrameReader::Mode::AutoDetect);
        v2.append(QByteArrayLiteral("ELN"));
        QCOMPARE(v2.poll(), FrameReader::Status::NeedMore);
        QCOMPARE(v2.mode(), FrameReader::Mode::AutoDetect);
        v2.append(QByteArrayLiteral("S"));
        QCOMPARE(v2.poll(), FrameReader::Status::NeedMore);
        QCOMPARE(v2.mode(), FrameReader::Mode::V2);
        QVERIFY(!v2.preambleSeen());
        v2.append(fromHex("0200 0000"));
        QCOMPARE(v2.poll(), FrameReader::Status::NeedMore);
        QVERIFY(v2.preambleSeen());
        QCOMPARE(v2.peerVersion(), quint16(2));

        FrameReader legacy(FrameReader::Mode::AutoDetect);
        legacy.append(fromHex("10000000"));
        QCOMPARE(legacy.poll(), FrameReader::Status::NeedMore);
        QCOMPARE(legacy.mode(), FrameReader::Mode::Legacy);
        QCOMPARE(legacy.peerVersion(), quint16(0));
    }

    void magicAsLegacyLength_isAboveEveryAllowedFrame()
    {
        QCOMPARE(qFromLittleEndian<quint32>(kMagic), kMagicAsLength);
        FrameReader reader(FrameReader::Mode::Legacy, kMaxFrameLimit);
        reader.append(encodePreamble());
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.errorCode(), ErrorCode::TooLarge);
    }

    void newerPeerVersion_isReportedNotRejected()
    {
        // Version policy is the server's call (it answers unsupported_version); the reader reports.
        FrameReader reader(FrameReader::Mode::AutoDetect);
        reader.append(encodePreamble(7) + encodeMessage(makePing(1)));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.peerVersion(), quint16(7));
    }

    void zeroLegacyLength_isBadFrame()
    {
        FrameReader reader(FrameReader::Mode::AutoDetect);
        reader.append(fromHex("00000000 ffd8"));
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.errorCode(), ErrorCode::BadFrame);
        QVERIFY(reader.errorString().contains(QStringLiteral("zero")));
    }

    void oversizedLegacyLength_isRefusedBeforeBody()
    {
        FrameReader reader(FrameReader::Mode::AutoDetect, 1024 * 1024);
        QByteArray header(4, Qt::Uninitialized);
        qToLittleEndian<quint32>(1024 * 1024 + 1, header.data());
        reader.append(header); // no body byte sent at all
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.errorCode(), ErrorCode::TooLarge);
        QVERIFY2(reader.errorString().contains(QStringLiteral("1048577")), qPrintable(reader.errorString()));
        QCOMPARE(reader.bufferedBytes(), 0);
    }

    void limitSizedLegacyFrame_isAccepted()
    {
        FrameReader reader(FrameReader::Mode::Legacy, 4096);
        reader.append(encodeLegacyFrame(someImageBytes(4096)));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeLegacyPayload().size(), 4096);
    }

    void oversizedV2Body_isRefusedFromTheHeaderAlone()
    {
        FrameReader reader(FrameReader::Mode::AutoDetect, 1000);
        QByteArray header(kHeaderSize, '\0');
        qToLittleEndian<quint32>(1001, header.data());
        qToLittleEndian<quint16>(quint16(MessageType::Detect), header.data() + 4);
        qToLittleEndian<quint32>(99, header.data() + 8);
        reader.append(encodePreamble() + header);
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.errorCode(), ErrorCode::TooLarge);
        QCOMPARE(reader.errorRequestId(), 99u);
    }

    void claimedLength_isNotReservedUpFront()
    {
        FrameReader reader(FrameReader::Mode::Legacy, kMaxFrameLimit);
        QByteArray header(4, Qt::Uninitialized);
        qToLittleEndian<quint32>(kMaxFrameLimit, header.data()); // 1 GiB claimed
        reader.append(header + QByteArrayLiteral("abc"));
        QCOMPARE(reader.poll(), FrameReader::Status::NeedMore);
        QCOMPARE(reader.bufferedBytes(), 7);
        QVERIFY(reader.midFrame());
    }

    void malformedV2Frames_areBadFrames_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("mentions");
        const int badFrame = int(ErrorCode::BadFrame);
        const QByteArray preamble = encodePreamble();
        QTest::newRow("body shorter than json length field")
            << preamble + fromHex("02000000 0300 0000 01000000 0000") << badFrame << "shorter";
        QTest::newRow("json length beyond body")
            << preamble + fromHex("06000000 0300 0000 01000000 05000000 7b7d") << badFrame << "JSON length";
        QTest::newRow("json not parseable")
            << preamble + fromHex("07000000 0300 0000 01000000 03000000 7b7b7d") << badFrame << "JSON";
        QTest::newRow("json not an object")
            << preamble + fromHex("06000000 0300 0000 01000000 02000000 5b5d") << badFrame << "object";
        QTest::newRow("reserved not zero")
            << preamble + fromHex("06000000 0300 0100 01000000 02000000 7b7d") << badFrame << "reserved";
        QTest::newRow("preamble flags") << fromHex("454c4e53 0200 0100") << badFrame << "flags";
        QTest::newRow("version zero") << fromHex("454c4e53 0000 0000") << int(ErrorCode::UnsupportedVersion)
                                      << "version";
    }

    void malformedV2Frames_areBadFrames()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, code);
        QFETCH(QString, mentions);
        FrameReader reader(FrameReader::Mode::AutoDetect);
        reader.append(bytes);
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(int(reader.errorCode()), code);
        QVERIFY2(reader.errorString().contains(mentions), qPrintable(reader.errorString()));
    }

    void v2ModeWithoutMagic_isBadFrameAtTheFirstWrongByte()
    {
        FrameReader reader(FrameReader::Mode::V2);
        reader.append(QByteArrayLiteral("EX"));
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.errorCode(), ErrorCode::BadFrame);
    }

    void errorIsSticky_laterGoodBytesDoNotResync()
    {
        FrameReader reader(FrameReader::Mode::Legacy);
        reader.append(fromHex("00000000"));
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        reader.append(encodeLegacyFrame("abc"));
        QCOMPARE(reader.poll(), FrameReader::Status::Error);
        QCOMPARE(reader.bufferedBytes(), 0);
    }

    void unknownMessageType_keepsFramingAndIsFlagged()
    {
        Message odd;
        odd.type = MessageType(0x0042);
        odd.requestId = 9;
        FrameReader reader(FrameReader::Mode::V2);
        reader.append(encodePreamble() + encodeMessage(odd) + encodeMessage(makePing(10)));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        const Message first = reader.takeMessage();
        QVERIFY(!isKnownMessageType(quint16(first.type)));
        QCOMPARE(messageTypeName(first.type), QStringLiteral("0x0042"));
        QCOMPARE(reader.poll(), FrameReader::Status::Ready);
        QCOMPARE(reader.takeMessage().requestId, 10u);
    }

    void errorCodeNames_areStable()
    {
        QCOMPARE(errorCodeName(ErrorCode::BadFrame), QStringLiteral("bad_frame"));
        QCOMPARE(errorCodeName(ErrorCode::UndecodableImage), QStringLiteral("undecodable_image"));
        QCOMPARE(errorCodeName(ErrorCode::TooLarge), QStringLiteral("too_large"));
        QCOMPARE(errorCodeName(ErrorCode::Busy), QStringLiteral("busy"));
        QCOMPARE(errorCodeName(ErrorCode::Unauthorized), QStringLiteral("unauthorized"));
        QCOMPARE(errorCodeName(ErrorCode::Internal), QStringLiteral("internal"));
        QCOMPARE(errorCodeName(ErrorCode::UnknownModel), QStringLiteral("unknown_model"));
        QCOMPARE(errorCodeName(ErrorCode::UnsupportedVersion), QStringLiteral("unsupported_version"));
        QCOMPARE(errorCodeName(ErrorCode::Timeout), QStringLiteral("timeout"));
        QCOMPARE(errorCodeName(ErrorCode::BadRequest), QStringLiteral("bad_request"));
        QCOMPARE(errorCodeName(ErrorCode::DeadlineExceeded), QStringLiteral("deadline_exceeded"));
        QCOMPARE(errorCodeName(quint16(42)), QStringLiteral("error_42"));
        QCOMPARE(int(ErrorCode::BadRequest), 10);
        QCOMPARE(int(ErrorCode::DeadlineExceeded), 11);
    }

    void protocolDoc_hexExamplesMatchTheEncoder()
    {
        QFile doc(QStringLiteral(EDGELENS_SOURCE_DIR "/docs/PROTOCOL.md"));
        QVERIFY2(doc.open(QIODevice::ReadOnly), qPrintable(doc.fileName()));
        const QString text = QString::fromUtf8(doc.readAll());
        const QByteArray image = test::readSample(QStringLiteral("baggage_claim.jpg"));
        QVERIFY2(!image.isEmpty(), qPrintable(test::samplePath(QStringLiteral("baggage_claim.jpg"))));
        const QByteArray jpegStart = QByteArray::fromHex("ffd8ffe000104a46");

        DetectOptions options;
        options.confidence = 0.25f;
        options.nmsIou = 0.5f;
        options.classFilter = {0};
        options.maxDetections = 10;
        options.jpegQuality = 80;
        DetectionResult result;
        result.imageWidth = 640;
        result.imageHeight = 427;
        result.model = QStringLiteral("nanodet-m-320");
        result.detections.append({0, QStringLiteral("person"), 0.912f, QRectF(12.5, 40, 101.25, 310)});
        result.timings = {2.1, 31.4, 0.6, 3.2};

        const QMap<QString, QByteArray> expected = {
            {QStringLiteral("legacy-request"), encodeLegacyFrame(image)},
            {QStringLiteral("legacy-reply"), encodeLegacyFrame(jpegStart + QByteArray(81482, '\0'))},
            {QStringLiteral("preamble"), encodePreamble()},
            {QStringLiteral("auth"), encodeMessage(makeAuth(1, QStringLiteral("s3cret")))},
            {QStringLiteral("auth-ok"), encodeMessage(makeAuthOk(1))},
            {QStringLiteral("info-request"), encodeMessage(makeInfoRequest(2))},
            {QStringLiteral("ping"), encodeMessage(makePing(3, "hi"))},
            {QStringLiteral("pong"), encodeMessage(makePong(makePing(3, "hi")))},
            {QStringLiteral("detect"), encodeMessage(makeDetect(4, options, image))},
            {QStringLiteral("result"), encodeMessage(makeResult(4, result, jpegStart + QByteArray(100, '\0')))},
            {QStringLiteral("error"),
             encodeMessage(makeError(5, ErrorCode::UnknownModel, QStringLiteral("no model named \"x\"")))},
        };

        // <!-- hex:NAME --> then a fenced block: each line starts with hex byte pairs, then a
        // comment; "…" means the rest of the message is left out.
        static const QRegularExpression block(QStringLiteral("<!-- hex:([a-z-]+) -->\\n```text\\n(.*?)```"),
                                              QRegularExpression::DotMatchesEverythingOption);
        static const QRegularExpression byte(QStringLiteral("^[0-9a-f]{2}$"));
        QSet<QString> seen;
        for (auto it = block.globalMatch(text); it.hasNext();) {
            const QRegularExpressionMatch match = it.next();
            const QString name = match.captured(1);
            QVERIFY2(expected.contains(name), qPrintable(name));
            QByteArray shown;
            bool cut = false;
            for (const QString &line : match.captured(2).split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
                for (const QString &token : line.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
                    if (token == QStringLiteral("…")) {
                        cut = true;
                        break;
                    }
                    if (!byte.match(token).hasMatch())
                        break;
                    shown.append(char(token.toUInt(nullptr, 16)));
                }
            }
            const QByteArray &encoded = expected.value(name);
            if (cut)
                QVERIFY2(encoded.startsWith(shown), qPrintable(name));
            else
                QVERIFY2(encoded == shown, qPrintable(name + QStringLiteral(": ") + QString::fromLatin1(shown.toHex(' '))));
            seen.insert(name);
        }
        QCOMPARE(seen.size(), expected.size());
    }

    void errorWithAnEmptyName_isNamedByItsCode()
    {
        // Found by fuzz_v2message: the JSON repeats "name", the last one empty.
        Message message;
        message.type = MessageType::Error;
        message.meta = QJsonDocument::fromJson(
                           R"({"code":2,"name":"unauthorized","messagnaeede":2,"name":""})")
                           .object();
        const ErrorInfo info = errorFromMessage(message);
        QCOMPARE(info.code, ErrorCode(2));
        QCOMPARE(info.name, errorCodeName(ErrorCode(2)));
        QVERIFY(!info.name.isEmpty());
    }

    void errorFromNonErrorMessage_saysSo()
    {
        const ErrorInfo info = errorFromMessage(makePing(1));
        QCOMPARE(info.code, ErrorCode::BadFrame);
        QVERIFY(info.message.contains(QStringLiteral("ping")));
    }
};

QTEST_GUILESS_MAIN(TestProtocol)
#include "tst_protocol.moc"
