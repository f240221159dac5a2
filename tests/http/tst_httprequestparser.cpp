// HttpRequestParser without a socket: framing, the strictness that keeps a request from being
// read two ways, limits from the head, one request at a time.
#include "http/httprequestparser.h"

#include <QTest>

using namespace edgelens;
using State = HttpRequestParser::State;

namespace {

HttpRequestParser::Limits smallLimits()
{
    return {1024, 100};
}

} // namespace

class TestHttpRequestParser : public QObject
{
    Q_OBJECT

private slots:
    void get_isCompleteAfterItsHead()
    {
        HttpRequestParser parser(smallLimits());
        const QByteArray bytes = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v  \r\n\r\n";
        QCOMPARE(parser.feed(bytes), bytes.size());
        QCOMPARE(parser.state(), State::Complete);
        QCOMPARE(parser.request().method, QByteArray("GET"));
        QCOMPARE(parser.request().path(), QByteArray("/metrics"));
        QCOMPARE(parser.request().header("x-thing"), QByteArray("v"));
        QVERIFY(parser.request().keepAlive);
    }

    void pipelined_takesOneRequestAtATime()
    {
        HttpRequestParser parser(smallLimits());
        const QByteArray one = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
        const QByteArray two = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
        const QByteArray both = one + two;
        qsizetype at = 0;
        while (parser.state() != State::Complete && at < both.size())
            at += parser.feed(both.mid(at));
        QCOMPARE(at, one.size());
        QCOMPARE(parser.request().body, QByteArray("abc"));
        QCOMPARE(parser.feed(both.mid(at)), 0); // nothing more until next()
        parser.next();
        QCOMPARE(parser.feed(both.mid(at)), two.size());
        QCOMPARE(parser.request().path(), QByteArray("/b"));
    }

    void byteByByte_givesTheSameRequest()
    {
        HttpRequestParser parser(smallLimits());
        const QByteArray bytes = "\r\nPOST /v1/vision/detection HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
        for (const char c : bytes)
            QCOMPARE(parser.feed(&c, 1), 1);
        QCOMPARE(parser.state(), State::Complete);
        QCOMPARE(parser.request().body, QByteArray("hello"));
    }

    void http10_andConnectionClose_closeAfterTheAnswer()
    {
        HttpRequestParser parser(smallLimits());
        parser.feed(QByteArray("GET / HTTP/1.0\r\n\r\n"));
        QCOMPARE(parser.state(), State::Complete);
        QVERIFY(!parser.request().keepAlive);
        parser.next();
        parser.feed(QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n"));
        QVERIFY(!parser.request().keepAlive);
    }

    void expectContinue_isNoted()
    {
        HttpRequestParser parser(smallLimits());
        parser.feed(QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
        QCOMPARE(parser.state(), State::Body);
        QVERIFY(parser.request().expectContinue);
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("status");
        QTest::newRow("conflicting lengths") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n") << 400;
        QTest::newRow("length list") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n") << 400;
        QTest::newRow("signed length") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n") << 400;
        QTest::newRow("te and cl") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") << 400;
        QTest::newRow("chunked") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") << 411;
        QTest::newRow("version 9.9") << QByteArray("GET / HTTP/9.9\r\nHost: a\r\n\r\n") << 505;
        QTest::newRow("version 2.0") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n") << 505;
        QTest::newRow("no version") << QByteArray("GET /\r\n\r\n") << 400;
        QTest::newRow("bad version") << QByteArray("GET / HTTX/1.1\r\nHost: a\r\n\r\n") << 400;
        QTest::newRow("garbage") << QByteArray("GARBAGE\r\n\r\n") << 400;
        QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << 400;
        QTest::newRow("folded") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n") << 400;
        QTest::newRow("bare lf") << QByteArray("GET / HTTP/1.1\nHost: a\r\n\r\n") << 400;
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
        QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
        QTest::newRow("body too large") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n") << 413;
        QTest::newRow("head too large") << ("GET / HTTP/1.1\r\nX: " + QByteArray(2000, 'a')) << 431;
        QTest::newRow("unknown expectation") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n") << 417;
        QTest::newRow("absolute target") << QByteArray("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") << 400;
    }

    void refusals()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, status);
        HttpRequestParser parser(smallLimits());
        parser.feed(bytes);
        QCOMPARE(parser.state(), State::Failed);
        QCOMPARE(parser.errorStatus(), status);
        QVERIFY(!parser.errorMessage().isEmpty());
    }

    void headAtTheLimit_cutInsideItsTerminator_isNotTooLarge()
    {
        // Found by fuzz_httprequest: 64 bytes of head, then "\r\n\r" and "\n" apart.
        HttpRequestParser::Limits limits{64, 100};
        const QByteArray head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(64 - 28, 'x');
        QCOMPARE(head.size(), 64);
        HttpRequestParser whole(limits);
        whole.feed(head + "\r\n\r\n");
        QCOMPARE(whole.state(), State::Complete);
        HttpRequestParser cut(limits);
        cut.feed(head + "\r\n\r");
        QCOMPARE(cut.state(), State::Head);
        cut.feed(QByteArray("\n"));
        QCOMPARE(cut.state(), State::Complete);
        HttpRequestParser over(limits);
        over.feed(head + "y\r\n\r");
        QCOMPARE(over.state(), State::Failed);
        QCOMPARE(over.errorStatus(), 431);
    }

    void repeatedEqualLengths_areOneLength()
    {
        HttpRequestParser parser(smallLimits());
        parser.feed(QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"));
        QCOMPARE(parser.state(), State::Body);
        parser.feed(QByteArray("ok"));
        QCOMPARE(parser.state(), State::Complete);
        QCOMPARE(parser.request().body, QByteArray("ok"));
    }
};

QTEST_GUILESS_MAIN(TestHttpRequestParser)
#include "tst_httprequestparser.moc"
