/**
 * @file shopcrm.h
 * @brief libshopcrm: e-commerce customer analytics (RFM, KPIs, ...). The only header users include.
 *
 * @mainpage libshopcrm
 * An embeddable C11 library for e-commerce customer analytics: an orders
 * dataset (shopcrm/dataset.h), CSV loading (shopcrm/io.h), RFM scoring and
 * segments (shopcrm/rfm.h) and shop KPIs (shopcrm/kpi.h). Conventions shared by
 * all areas are in shopcrm/common.h. Guides: docs/ in the source tree.
 */
#ifndef SHOPCRM_H
#define SHOPCRM_H

#include "shopcrm/common.h"
#include "shopcrm/dataset.h"
#include "shopcrm/io.h"
#include "shopcrm/rfm.h"
#include "shopcrm/kpi.h"
#include "shopcrm/cohorts.h"

#endif /* SHOPCRM_H */
