#include "eval/cocoevaluator.h"
#include "eval/cocojsonreader.h"

#include <QtTest>

#include "testdata.h"

using namespace edgelens;

namespace {

GroundTruthBox gtBox(int classId, QRectF box, bool crowd = false)
{
    GroundTruthBox g;
    g.classId = classId;
    g.box = box;
    g.crowd = crowd;
    return g;
}

Detection det(int classId, QRectF box, float confidence)
{
    Detection d;
    d.classId = classId;
    d.box = box;
    d.confidence = confidence;
    return d;
}

} // namespace

class TestCocoEvaluator : public QObject
{
    Q_OBJECT

private slots:
    void thresholds_matchPycocotools();
    void iou_followsCocoBoxRules();
    void groundTruthAgainstItself_scoresExactlyOne();
    void iouOf072_countsAtFiveOfTenThresholds();
    void falsePositiveAboveTruePositive_halvesPrecision();
    void halfTheObjectsFound_givesFiftyOneOf101RecallPoints();
    void detectionOnCrowd_isIgnoredNotFalsePositive();
    void unmatchedCrowd_isNotAMiss();
    void crowdOnlyClass_isLeftOut();
    void classWithoutGroundTruth_isLeftOut();
    void maxDetections_keepsOnlyTheBestPerImageAndClass();
    void greedyMatching_highestScoreTakesTheBox();
    void equalScores_keepImageOrder();
    void noGroundTruthAtAll_isInvalid();
    void nonFiniteDetections_areDropped();
    void summary_hasJsonAndText();
};

void TestCocoEvaluator::thresholds_matchPycocotools()
{
    const auto &iou = CocoEvaluator::iouThresholds();
    QCOMPARE(iou.front(), 0.5);
    QCOMPARE(iou.back(), 0.95);
    QVERIFY(qAbs(iou[5] - 0.75) < 1e-12);
    const auto &rec = CocoEvaluator::recallThresholds();
    QCOMPARE(rec.front(), 0.0);
    QCOMPARE(rec.back(), 1.0);
    QCOMPARE(rec[50], 0.5);
}

void TestCocoEvaluator::iou_followsCocoBoxRules()
{
    // 43 wide, shifted by 7: overlap 36 of a 50 wide union.
    QCOMPARE(CocoEvaluator::iou(QRectF(7, 0, 43, 10), QRectF(0, 0, 43, 10), false), 0.72);
    QCOMPARE(CocoEvaluator::iou(QRectF(0, 0, 10, 10), QRectF(10, 0, 10, 10), false), 0.0); // touching, no +1
    // Crowd: the intersection over the detection's own area.
    QCOMPARE(CocoEvaluator::iou(QRectF(10, 10, 10, 10), QRectF(0, 0, 100, 100), true), 1.0);
    QCOMPARE(CocoEvaluator::iou(QRectF(10, 10, 10, 10), QRectF(0, 0, 100, 100), false), 0.01);
    QCOMPARE(CocoEvaluator::iou(QRectF(0, 0, 0, 0), QRectF(0, 0, 0, 0), false), 0.0);
}

void TestCocoEvaluator::groundTruthAgainstItself_scoresExactlyOne()
{
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
    const QString path = edgelens::test::sharedPath(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
    QString error;
    const auto set = CocoJsonReader::read(path, &error);
    QVERIFY2(set, qPrintable(error));
    QCOMPARE(set->images.size(), 128);
    QCOMPARE(set->classNames.size(), 80);
    QCOMPARE(set->classNames.first(), QStringLiteral("person"));

    CocoEvaluator evaluator(set->classNames);
    int boxes = 0;
    for (const GroundTruthImage &image : set->images) {
        QList<Detection> detections;
        float score = 1.0f;
        for (const GroundTruthBox &g : image.boxes) {
            ++boxes;
            if (!g.crowd)
                detections.append(det(g.classId, g.box, score));
            score *= 0.99f; // distinct scores, so ordering plays its part
        }
        evaluator.addImage(image.boxes, detections);
    }
    QCOMPARE(boxes, 939);
    const EvalSummary summary = evaluator.evaluate();
    // pycocotools divides by tp + fp + eps, so "perfect" is 1 - 2e-16 there and here.
    QVERIFY2(summary.map > 1.0 - 1e-12 && summary.map <= 1.0, qPrintable(QString::number(summary.map, 'g', 17)));
    QCOMPARE(summary.map, 1.0);
    QCOMPARE(summary.ap50, 1.0);
    QCOMPARE(summary.ap75, 1.0);
    QCOMPARE(summary.ar, 1.0);
    QCOMPARE(summary.imageCount, 128);
    QCOMPARE(summary.groundTruthCount + summary.crowdCount, 939);
    QVERIFY(summary.crowdCount > 0);
    QVERIFY(summary.perClass.size() > 1);
    for (const ClassAp &c : summary.perClass)
        QCOMPARE(c.ap, 1.0);
}

void TestCocoEvaluator::iouOf072_countsAtFiveOfTenThresholds()
{
    // IoU 0.72 clears .50 .55 .60 .65 .70 (AP 1 each) and misses .75 ... .95 (AP 0 each).
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 43, 10))}, {det(0, QRectF(7, 0, 43, 10), 0.9f)});
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.map, 0.5);
    QCOMPARE(s.ap50, 1.0);
    QCOMPARE(s.ap75, 0.0);
    QCOMPARE(s.perClass.size(), 1);
    QCOMPARE(s.perClass.first().ap, 0.5);
}

void TestCocoEvaluator::falsePositiveAboveTruePositive_halvesPrecision()
{
    // Ranked FP then TP: precision 0 then 0.5 at recall 1; made monotone it is 0.5 everywhere.
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 50, 50))},
                       {det(0, QRectF(200, 200, 50, 50), 0.9f), det(0, QRectF(0, 0, 50, 50), 0.8f)});
    QCOMPARE(evaluator.evaluate().map, 0.5);

    // The other way round precision is 1 where recall is reached: AP 1.
    CocoEvaluator reversed;
    reversed.addImage({gtBox(0, QRectF(0, 0, 50, 50))},
                      {det(0, QRectF(200, 200, 50, 50), 0.5f), det(0, QRectF(0, 0, 50, 50), 0.8f)});
    QCOMPARE(reversed.evaluate().map, 1.0);
}

void TestCocoEvaluator::halfTheObjectsFound_givesFiftyOneOf101RecallPoints()
{
    // Recall 0.5 reaches the recall thresholds 0.00 .. 0.50: 51 of 101 at precision 1.
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 50, 50)), gtBox(0, QRectF(100, 100, 50, 50))},
                       {det(0, QRectF(0, 0, 50, 50), 0.9f)});
    const EvalSummary s = evaluator.evaluate();
    QVERIFY(qAbs(s.map - 51.0 / 101.0) < 1e-12);
    QVERIFY(qAbs(s.perClass.first().recall - 0.5) < 1e-12);
}

void TestCocoEvaluator::detectionOnCrowd_isIgnoredNotFalsePositive()
{
    // The best-scored detection sits inside a crowd region: it must neither help nor hurt.
    // Counted as a false positive it would drop AP to 0.5.
    const QList<GroundTruthBox> gt = {gtBox(0, QRectF(0, 0, 50, 50)), gtBox(0, QRectF(100, 0, 200, 200), true)};
    CocoEvaluator evaluator;
    evaluator.addImage(gt, {det(0, QRectF(120, 20, 30, 30), 0.95f), det(0, QRectF(150, 50, 40, 40), 0.9f),
                            det(0, QRectF(0, 0, 50, 50), 0.8f)});
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.map, 1.0);
    QCOMPARE(s.groundTruthCount, 1);
    QCOMPARE(s.crowdCount, 1);
}

void TestCocoEvaluator::unmatchedCrowd_isNotAMiss()
{
    const QList<GroundTruthBox> gt = {gtBox(0, QRectF(0, 0, 50, 50)), gtBox(0, QRectF(100, 0, 200, 200), true)};
    CocoEvaluator evaluator;
    evaluator.addImage(gt, {det(0, QRectF(0, 0, 50, 50), 0.8f)});
    QCOMPARE(evaluator.evaluate().map, 1.0);
}

void TestCocoEvaluator::crowdOnlyClass_isLeftOut()
{
    CocoEvaluator evaluator({QStringLiteral("person"), QStringLiteral("car")});
    evaluator.addImage({gtBox(0, QRectF(0, 0, 50, 50)), gtBox(1, QRectF(100, 0, 200, 200), true)},
                       {det(0, QRectF(0, 0, 50, 50), 0.8f), det(1, QRectF(0, 0, 50, 50), 0.9f)});
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.perClass.size(), 1);
    QCOMPARE(s.perClass.first().name, QStringLiteral("person"));
    QCOMPARE(s.map, 1.0);
}

void TestCocoEvaluator::classWithoutGroundTruth_isLeftOut()
{
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 50, 50))},
                       {det(0, QRectF(0, 0, 50, 50), 0.8f), det(7, QRectF(0, 0, 50, 50), 0.99f)});
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.perClass.size(), 1);
    QCOMPARE(s.map, 1.0);
    QCOMPARE(s.detectionCount, 2);

    // A class with ground truth but no detections scores 0 and does count.
    CocoEvaluator missed;
    missed.addImage({gtBox(0, QRectF(0, 0, 50, 50)), gtBox(3, QRectF(60, 60, 20, 20))},
                    {det(0, QRectF(0, 0, 50, 50), 0.8f)});
    const EvalSummary m = missed.evaluate();
    QCOMPARE(m.perClass.size(), 2);
    QCOMPARE(m.perClass.at(1).ap, 0.0);
    QCOMPARE(m.map, 0.5);
}

void TestCocoEvaluator::maxDetections_keepsOnlyTheBestPerImageAndClass()
{
    const QList<GroundTruthBox> gt = {gtBox(0, QRectF(0, 0, 50, 50)), gtBox(0, QRectF(100, 100, 50, 50))};
    const QList<Detection> dets = {det(0, QRectF(100, 100, 50, 50), 0.5f), det(0, QRectF(0, 0, 50, 50), 0.9f)};
    CocoEvaluator one({}, 1);
    one.addImage(gt, dets);
    QVERIFY(qAbs(one.evaluate().map - 51.0 / 101.0) < 1e-12);
    CocoEvaluator hundred;
    hundred.addImage(gt, dets);
    QCOMPARE(hundred.evaluate().map, 1.0);
}

void TestCocoEvaluator::greedyMatching_highestScoreTakesTheBox()
{
    // Both detections overlap the only box; the higher-scored, worse-fitting one (IoU 0.62)
    // takes it, so the perfect one is a false positive at every threshold.
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 100, 100))},
                       {det(0, QRectF(0, 0, 100, 62), 0.9f), det(0, QRectF(0, 0, 100, 100), 0.8f)});
    const EvalSummary s = evaluator.evaluate();
    // t = .50 .55 .60: first is TP -> AP 1; t >= .65: FP then TP -> AP 0.5.
    QVERIFY(qAbs(s.map - (3 * 1.0 + 7 * 0.5) / 10) < 1e-12);
    QCOMPARE(s.ap50, 1.0);
    QCOMPARE(s.ap75, 0.5);
}

void TestCocoEvaluator::equalScores_keepImageOrder()
{
    // pycocotools sorts with a stable mergesort over images in id order: at equal scores the
    // earlier image's detection ranks first.
    const QList<GroundTruthBox> gt = {gtBox(0, QRectF(0, 0, 50, 50))};
    const QList<Detection> falsePositive = {det(0, QRectF(200, 200, 50, 50), 0.5f)};
    const QList<Detection> truePositive = {det(0, QRectF(0, 0, 50, 50), 0.5f)};

    CocoEvaluator fpFirst;
    fpFirst.addImage({}, falsePositive);
    fpFirst.addImage(gt, truePositive);
    QCOMPARE(fpFirst.evaluate().map, 0.5);

    CocoEvaluator tpFirst;
    tpFirst.addImage(gt, truePositive);
    tpFirst.addImage({}, falsePositive);
    QCOMPARE(tpFirst.evaluate().map, 1.0);
}

void TestCocoEvaluator::noGroundTruthAtAll_isInvalid()
{
    CocoEvaluator evaluator;
    evaluator.addImage({}, {det(0, QRectF(0, 0, 10, 10), 0.5f)});
    const EvalSummary s = evaluator.evaluate();
    QVERIFY(!s.isValid());
    QCOMPARE(s.map, -1.0);
    QVERIFY(s.toText().contains(QStringLiteral("n/a")));
}

void TestCocoEvaluator::nonFiniteDetections_areDropped()
{
    CocoEvaluator evaluator;
    evaluator.addImage({gtBox(0, QRectF(0, 0, 50, 50))},
                       {det(0, QRectF(0, 0, 50, 50), std::numeric_limits<float>::quiet_NaN()),
                        det(0, QRectF(0, 0, 50, 50), 0.7f)});
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.detectionCount, 1);
    QCOMPARE(s.map, 1.0);
}

void TestCocoEvaluator::summary_hasJsonAndText()
{
    CocoEvaluator evaluator({QStringLiteral("person")});
    evaluator.addImage({gtBox(0, QRectF(0, 0, 43, 10))}, {det(0, QRectF(7, 0, 43, 10), 0.9f)});
    const EvalSummary s = evaluator.evaluate();
    const QJsonObject json = s.toJson();
    QCOMPARE(json.value(QStringLiteral("map")).toDouble(), 0.5);
    QCOMPARE(json.value(QStringLiteral("ap50")).toDouble(), 1.0);
    QCOMPARE(json.value(QStringLiteral("per_class")).toArray().size(), 1);
    QCOMPARE(json.value(QStringLiteral("per_class")).toArray().first().toObject().value(QStringLiteral("name")).toString(),
             QStringLiteral("person"));
    const QString text = s.toText();
    QVERIFY2(text.contains(QStringLiteral("mAP@[.5:.95]  0.500")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("person")), qPrintable(text));
}

QTEST_GUILESS_MAIN(TestCocoEvaluator)
#include "tst_cocoevaluator.moc"
