#pragma once

// COCO-style bounding-box mAP with the exact conventions of pycocotools' COCOeval (iouType
// "bbox", area "all", maxDets 100): IoU thresholds .50:.05:.95, 101-point interpolated
// precision with precision made monotone, greedy matching by descending score per image and
// class, crowd ground truth never counted as a miss and detections matched to it ignored,
// classes without (non-crowd) ground truth left out of every average.

#include "eval/groundtruth.h"
#include "protocol/detection.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <array>

namespace edgelens {

struct ClassAp
{
    int classId = -1;
    QString name;
    int groundTruthCount = 0; // non-crowd boxes
    int detectionCount = 0;   // after the per-image maxDetections cut
    double ap = 0;            // mean over the 10 IoU thresholds
    double ap50 = 0;
    double ap75 = 0;
    double recall = 0;        // max recall, mean over the IoU thresholds (COCO's AR@maxDets)
};

struct EvalSummary
{
    // -1 when no class has ground truth (nothing to score), as pycocotools prints.
    double map = -1;   // mAP@[.5:.95]
    double ap50 = -1;
    double ap75 = -1;
    double ar = -1;    // AR@maxDets
    QList<ClassAp> perClass; // classes with ground truth only, ascending class id
    int imageCount = 0;
    int groundTruthCount = 0; // non-crowd boxes of scored classes
    int crowdCount = 0;
    int detectionCount = 0;   // every detection handed in

    bool isValid() const { return map >= 0; }
    QJsonObject toJson() const;
    // A fixed-width table: headline numbers, then one row per class.
    QString toText() const;
};

class CocoEvaluator final
{
public:
    static constexpr int kIouThresholdCount = 10;
    static constexpr int kRecallThresholdCount = 101;

    // classNames only label the per-class rows; class ids beyond it are named by number.
    explicit CocoEvaluator(const QStringList &classNames = {}, int maxDetections = 100);
    ~CocoEvaluator();
    Q_DISABLE_COPY_MOVE(CocoEvaluator)

    // Images are scored in the order they are added; it only matters for equal scores, where
    // pycocotools keeps ascending image id order, so add COCO images by ascending id.
    void addImage(const QList<GroundTruthBox> &groundTruth, const QList<Detection> &detections);
    int imageCount() const;
    int maxDetections() const;

    EvalSummary evaluate() const;

    // COCO's box IoU (no +1 pixel); for a crowd box the union is the detection's own area.
    static double iou(const QRectF &detection, const QRectF &groundTruth, bool crowd);
    // Exactly the values numpy.linspace gives pycocotools, so boundary IoUs fall the same way.
    static const std::array<double, kIouThresholdCount> &iouThresholds();
    static const std::array<double, kRecallThresholdCount> &recallThresholds();

private:
    struct Image
    {
        QList<GroundTruthBox> groundTruth;
        QList<Detection> detections;
    };

    QStringList m_classNames;
    int m_maxDetections;
    QList<Image> m_images;
};

} // namespace edgelens
