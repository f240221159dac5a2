#include "cocoevaluator.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

Q_LOGGING_CATEGORY(lcEvaluator, "edgelens.eval.evaluator")

namespace edgelens {

namespace {

// pycocotools' areaRng "all": [0, 1e5 ** 2].
constexpr double kAreaMin = 0.0;
constexpr double kAreaMax = 1e10;

struct ScoredDetection
{
    double score = 0;
    std::array<bool, CocoEvaluator::kIouThresholdCount> matched{};
    std::array<bool, CocoEvaluator::kIouThresholdCount> ignored{};
};

struct ClassBucket
{
    std::vector<GroundTruthBox> groundTruth;
    std::vector<Detection> detections;
};

double boxArea(const QRectF &r)
{
    return r.width() * r.height();
}

double round3(double v)
{
    return std::round(v * 1000.0) / 1000.0;
}

// JSON keeps 6 decimals: enough to compare runs, without pycocotools' 1 - 2e-16 "perfect" scores.
double round6(double v)
{
    return std::round(v * 1e6) / 1e6;
}

// One image, one class: pycocotools' evaluateImg. Appends the kept detections to `out` and
// returns the number of ground truth boxes that count (not ignored).
int evaluateImageClass(std::vector<GroundTruthBox> gts, std::vector<Detection> dts, int maxDetections,
                       std::vector<ScoredDetection> *out)
{
    const auto &thresholds = CocoEvaluator::iouThresholds();

    std::vector<bool> gtIgnoreUnsorted(gts.size());
    for (size_t g = 0; g < gts.size(); ++g) {
        const double area = gts[g].effectiveArea();
        gtIgnoreUnsorted[g] = gts[g].crowd || area < kAreaMin || area > kAreaMax;
    }
    // Ignored ground truth last, stable (numpy mergesort on the ignore flag).
    std::vector<size_t> gtOrder(gts.size());
    for (size_t g = 0; g < gtOrder.size(); ++g)
        gtOrder[g] = g;
    std::stable_sort(gtOrder.begin(), gtOrder.end(), [&](size_t a, size_t b) {
        return !gtIgnoreUnsorted[a] && gtIgnoreUnsorted[b];
    });
    std::vector<GroundTruthBox> gt;
    std::vector<bool> gtIgnore;
    gt.reserve(gts.size());
    for (size_t g : gtOrder) {
        gt.push_back(gts[g]);
        gtIgnore.push_back(gtIgnoreUnsorted[g]);
    }

    std::stable_sort(dts.begin(), dts.end(),
                     [](const Detection &a, const Detection &b) { return a.confidence > b.confidence; });
    if (int(dts.size()) > maxDetections)
        dts.resize(size_t(maxDetections));

    const size_t G = gt.size();
    const size_t D = dts.size();
    std::vector<double> ious(D * G);
    for (size_t d = 0; d < D; ++d)
        for (size_t g = 0; g < G; ++g)
            ious[d * G + g] = CocoEvaluator::iou(dts[d].box, gt[g].box, gt[g].crowd);

    std::vector<ScoredDetection> scored(D);
    for (size_t d = 0; d < D; ++d)
        scored[d].score = double(dts[d].confidence);

    if (G > 0 && D > 0) {
        for (size_t t = 0; t < thresholds.size(); ++t) {
            std::vector<bool> gtMatched(G, false);
            for (size_t d = 0; d < D; ++d) {
                double best = std::min(thresholds[t], 1 - 1e-10);
                int m = -1;
                for (size_t g = 0; g < G; ++g) {
                    // A matched regular box is taken; a crowd box can absorb any number.
                    if (gtMatched[g] && !gt[g].crowd)
                        continue;
                    // Already on a regular box and only ignored ones remain: keep it.
                    if (m > -1 && !gtIgnore[size_t(m)] && gtIgnore[g])
                        break;
                    if (ious[d * G + g] < best)
                        continue;
                    best = ious[d * G + g];
                    m = int(g);
                }
                if (m == -1)
                    continue;
                scored[d].matched[t] = true;
                scored[d].ignored[t] = gtIgnore[size_t(m)];
                gtMatched[size_t(m)] = true;
            }
        }
    }
    // Unmatched detections outside the area range do not count (never for "all" in practice).
    for (size_t d = 0; d < D; ++d) {
        const double area = boxArea(dts[d].box);
        if (area < kAreaMin || area > kAreaMax) {
            for (size_t t = 0; t < thresholds.size(); ++t) {
                if (!scored[d].matched[t])
                    scored[d].ignored[t] = true;
            }
        }
    }

    out->insert(out->end(), scored.begin(), scored.end());
    return int(std::count(gtIgnore.begin(), gtIgnore.end(), false));
}

} // namespace

CocoEvaluator::CocoEvaluator(const QStringList &classNames, int maxDetections)
    : m_classNames(classNames)
    , m_maxDetections(std::max(1, maxDetections))
{
    if (maxDetections < 1)
        qCWarning(lcEvaluator) << "maxDetections" << maxDetections << "is not positive; using 1";
}

CocoEvaluator::~CocoEvaluator() = default;

void CocoEvaluator::addImage(const QList<GroundTruthBox> &groundTruth, const QList<Detection> &detections)
{
    Image image;
    image.groundTruth = groundTruth;
    image.detections.reserve(detections.size());
    for (const Detection &d : detections) {
        // A NaN score or box would break the strict ordering the sort relies on.
        const bool finite = std::isfinite(d.confidence) && std::isfinite(d.box.x()) && std::isfinite(d.box.y())
            && std::isfinite(d.box.width()) && std::isfinite(d.box.height());
        if (!finite) {
            qCWarning(lcEvaluator) << "dropping a detection with a non-finite score or box in image"
                                   << m_images.size();
            continue;
        }
        image.detections.append(d);
    }
    m_images.append(std::move(image));
}

int CocoEvaluator::imageCount() const
{
    return int(m_images.size());
}

int CocoEvaluator::maxDetections() const
{
    return m_maxDetections;
}

double CocoEvaluator::iou(const QRectF &detection, const QRectF &groundTruth, bool crowd)
{
    // pycocotools' bbIou (maskApi.c), in the same order of operations.
    const double dx = detection.x(), dy = detection.y(), dw = detection.width(), dh = detection.height();
    const double gx = groundTruth.x(), gy = groundTruth.y(), gw = groundTruth.width(), gh = groundTruth.height();
    const double w = std::min(dx + dw, gx + gw) - std::max(dx, gx);
    if (w <= 0)
        return 0;
    const double h = std::min(dy + dh, gy + gh) - std::max(dy, gy);
    if (h <= 0)
        return 0;
    const double inter = w * h;
    const double da = dw * dh;
    const double unionArea = crowd ? da : da + gw * gh - inter;
    if (!(unionArea > 0))
        return 0;
    return inter / unionArea;
}

const std::array<double, CocoEvaluator::kIouThresholdCount> &CocoEvaluator::iouThresholds()
{
    // np.linspace(.5, 0.95, 10): i * step + start, the last one set to stop.
    static const std::array<double, kIouThresholdCount> values = [] {
        std::array<double, kIouThresholdCount> v{};
        const double step = (0.95 - 0.5) / double(kIouThresholdCount - 1);
        for (int i = 0; i < kIouThresholdCount; ++i)
            v[size_t(i)] = double(i) * step + 0.5;
        v.back() = 0.95;
        return v;
    }();
    return values;
}

const std::array<double, CocoEvaluator::kRecallThresholdCount> &CocoEvaluator::recallThresholds()
{
    // np.linspace(.0, 1.00, 101)
    static const std::array<double, kRecallThresholdCount> values = [] {
        std::array<double, kRecallThresholdCount> v{};
        const double step = 1.0 / double(kRecallThresholdCount - 1);
        for (int i = 0; i < kRecallThresholdCount; ++i)
            v[size_t(i)] = double(i) * step + 0.0;
        v.back() = 1.0;
        return v;
    }();
    return values;
}

EvalSummary CocoEvaluator::evaluate() const
{
    EvalSummary summary;
    summary.imageCount = int(m_images.size());

    // Per image, per class buckets; std::map keeps the classes in ascending id order.
    std::vector<std::map<int, ClassBucket>> buckets(m_images.size());
    std::map<int, std::vector<size_t>> imagesOfClass;
    for (size_t i = 0; i < size_t(m_images.size()); ++i) {
        const Image &image = m_images.at(qsizetype(i));
        for (const GroundTruthBox &g : image.groundTruth)
            buckets[i][g.classId].groundTruth.push_back(g);
        for (const Detection &d : image.detections)
            buckets[i][d.classId].detections.push_back(d);
        summary.detectionCount += int(image.detections.size());
        for (const auto &entry : buckets[i])
            imagesOfClass[entry.first].push_back(i);
    }

    const auto &recallThr = recallThresholds();
    double sumAp = 0, sumAp50 = 0, sumAp75 = 0, sumRecall = 0;

    for (const auto &entry : imagesOfClass) {
        const int classId = entry.first;
        std::vector<ScoredDetection> all;
        int counted = 0;
        for (size_t i : entry.second) {
            const ClassBucket &bucket = buckets[i].at(classId);
            counted += evaluateImageClass(bucket.groundTruth, bucket.detections, m_maxDetections, &all);
        }
        if (counted == 0)
            continue; // pycocotools: precision -1, left out of every mean

        // Across images by descending score, ties in image order (numpy mergesort).
        std::stable_sort(all.begin(), all.end(),
                         [](const ScoredDetection &a, const ScoredDetection &b) { return a.score > b.score; });

        ClassAp result;
        result.classId = classId;
        result.name = classId >= 0 && classId < m_classNames.size() ? m_classNames.at(classId)
                                                                     : QString::number(classId);
        result.groundTruthCount = counted;
        result.detectionCount = int(all.size());

        const size_t nd = all.size();
        std::vector<double> rc(nd), pr(nd);
        double apSum = 0;
        double recallSum = 0;
        for (size_t t = 0; t < size_t(kIouThresholdCount); ++t) {
            double tp = 0, fp = 0;
            for (size_t d = 0; d < nd; ++d) {
                const ScoredDetection &s = all[d];
                if (!s.ignored[t]) {
                    if (s.matched[t])
                        tp += 1;
                    else
                        fp += 1;
                }
                rc[d] = tp / counted;
                pr[d] = tp / (fp + tp + std::numeric_limits<double>::epsilon());
            }
            recallSum += nd ? rc.back() : 0.0;
            for (size_t d = nd; d-- > 1;) {
                if (pr[d] > pr[d - 1])
                    pr[d - 1] = pr[d];
            }
            double q = 0;
            for (double thr : recallThr) {
                // searchsorted(side='left'): the first index whose recall reaches thr.
                const auto it = std::lower_bound(rc.begin(), rc.end(), thr);
                if (it == rc.end())
                    break; // no higher recall reached: the rest stay 0
                q += pr[size_t(it - rc.begin())];
            }
            const double apAtT = q / double(kRecallThresholdCount);
            apSum += apAtT;
            if (t == 0)
                result.ap50 = apAtT;
            if (t == 5)
                result.ap75 = apAtT;
        }
        result.ap = apSum / kIouThresholdCount;
        result.recall = recallSum / kIouThresholdCount;

        summary.groundTruthCount += counted;
        sumAp += result.ap;
        sumAp50 += result.ap50;
        sumAp75 += result.ap75;
        sumRecall += result.recall;
        summary.perClass.append(result);
    }
    for (const Image &image : m_images)
        for (const GroundTruthBox &g : image.groundTruth)
            summary.crowdCount += g.crowd ? 1 : 0;

    if (!summary.perClass.isEmpty()) {
        const double k = double(summary.perClass.size());
        summary.map = sumAp / k;
        summary.ap50 = sumAp50 / k;
        summary.ap75 = sumAp75 / k;
        summary.ar = sumRecall / k;
    }
    return summary;
}

QJsonObject EvalSummary::toJson() const
{
    QJsonArray classes;
    for (const ClassAp &c : perClass) {
        classes.append(QJsonObject{
            {QStringLiteral("class_id"), c.classId},
            {QStringLiteral("name"), c.name},
            {QStringLiteral("ground_truth"), c.groundTruthCount},
            {QStringLiteral("detections"), c.detectionCount},
            {QStringLiteral("ap"), round6(c.ap)},
            {QStringLiteral("ap50"), round6(c.ap50)},
            {QStringLiteral("ap75"), round6(c.ap75)},
            {QStringLiteral("recall"), round6(c.recall)},
        });
    }
    return {
        {QStringLiteral("map"), round6(map)},
        {QStringLiteral("ap50"), round6(ap50)},
        {QStringLiteral("ap75"), round6(ap75)},
        {QStringLiteral("ar100"), round6(ar)},
        {QStringLiteral("images"), imageCount},
        {QStringLiteral("ground_truth"), groundTruthCount},
        {QStringLiteral("crowd"), crowdCount},
        {QStringLiteral("detections"), detectionCount},
        {QStringLiteral("classes_scored"), int(perClass.size())},
        {QStringLiteral("per_class"), classes},
    };
}

QString EvalSummary::toText() const
{
    QString text;
    QTextStream out(&text);
    const auto number = [](double v) { return v < 0 ? QStringLiteral("  n/a") : QString::number(round3(v), 'f', 3); };
    out << "images " << imageCount << ", ground truth boxes " << groundTruthCount << " (+" << crowdCount
        << " crowd, ignored), detections " << detectionCount << ", classes scored " << perClass.size() << '\n';
    out << "mAP@[.5:.95]  " << number(map) << '\n';
    out << "AP50          " << number(ap50) << '\n';
    out << "AP75          " << number(ap75) << '\n';
    out << "AR@100        " << number(ar) << '\n';
    if (perClass.isEmpty())
        return text;
    out << '\n' << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                       .arg(QStringLiteral("class"), -16)
                       .arg(QStringLiteral("gt"), 5)
                       .arg(QStringLiteral("dets"), 6)
                       .arg(QStringLiteral("AP"), 6)
                       .arg(QStringLiteral("AP50"), 6)
                       .arg(QStringLiteral("AP75"), 6);
    for (const ClassAp &c : perClass) {
        out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                   .arg(c.name.left(16), -16)
                   .arg(c.groundTruthCount, 5)
                   .arg(c.detectionCount, 6)
                   .arg(number(c.ap), 6)
                   .arg(number(c.ap50), 6)
                   .arg(number(c.ap75), 6);
    }
    return text;
}

} // namespace edgelens
