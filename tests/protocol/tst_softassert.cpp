#include "protocol/softassert.h"

#include <QtTest>

namespace {

int halve(int value)
{
    EL_RETURN_VALUE_IF_FAIL(value % 2 == 0, -1);
    return value / 2;
}

} // namespace

class TestSoftAssert final : public QObject
{
    Q_OBJECT

private slots:
    void heldCondition_runsTheFunction()
    {
        QCOMPARE(halve(8), 4);
    }

    void brokenCondition_logsAndReturnsTheFallback()
    {
#ifdef QT_NO_DEBUG
        QTest::ignoreMessage(QtCriticalMsg,
                             QRegularExpression(QStringLiteral("soft assertion failed: value % 2 == 0 at .*tst_softassert")));
        QCOMPARE(halve(7), -1);
#else
        QSKIP("debug builds stop at a broken soft assertion (Q_ASSERT)");
#endif
    }
};

QTEST_GUILESS_MAIN(TestSoftAssert)
#include "tst_softassert.moc"
